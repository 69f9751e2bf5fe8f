using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;

namespace Vigil.DevProvider.Accounts;

/// <summary>
/// The provider's signing keys (RSA, made at start: nothing to keep in the repository). In the Testing environment a
/// test rotates them as a real provider does: a new key signs from now on and is published beside the old one, then
/// the old one is retired (no longer published).
/// </summary>
internal sealed class SigningKeys(IOptionsMonitor<OpenIddictServerOptions> server)
{
    private readonly Lock _lock = new();

    /// <summary>A new RSA key with a fresh key id.</summary>
    public static RsaSecurityKey NewKey() =>
        new(RSA.Create(2048)) { KeyId = "dev-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) };

    /// <summary>The key ids published, the signing one first.</summary>
    public IReadOnlyList<string> KeyIds
    {
        get
        {
            lock (_lock) return server.CurrentValue.SigningCredentials.Select(c => c.Kid).ToList();
        }
    }

    /// <summary>Makes a new key, signs with it from now on; the old keys stay published. Returns its key id.</summary>
    public string Rotate()
    {
        var key = NewKey();
        lock (_lock)
        {
            server.CurrentValue.SigningCredentials.Insert(0, new SigningCredentials(key, SecurityAlgorithms.RsaSha256));
        }
        return key.KeyId;
    }

    /// <summary>Stops publishing every key but the signing one.</summary>
    public IReadOnlyList<string> RetireOld()
    {
        lock (_lock)
        {
            var credentials = server.CurrentValue.SigningCredentials;
            var retired = credentials.Skip(1).Select(c => c.Kid).ToList();
            credentials.RemoveRange(1, credentials.Count - 1);
            return retired;
        }
    }
}
