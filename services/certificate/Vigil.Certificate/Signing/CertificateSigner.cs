using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Vigil.Certificate.Signing;

/// <summary>A public key as published.</summary>
internal sealed record PublicSigningKey(string KeyId, byte[] SubjectPublicKeyInfo, string Pem);

/// <summary>
/// Signs certificates with ES256 (ECDSA P-256, SHA-256, IEEE P1363 r||s) using .NET's own ECDsa, and
/// verifies them with the published public keys. Keys come from configuration; never logged.
/// </summary>
internal sealed class CertificateSigner : IDisposable
{
    public const string Algorithm = "ES256";
    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);

    public CertificateSigner(IOptions<SigningOptions> options)
    {
        var o = options.Value;
        ActiveKeyId = o.ActiveKeyId;
        foreach (var key in o.SigningKeys)
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(key.PrivateKeyPem);
            _keys[key.KeyId] = ec;
        }
        // Active first, then the others in configuration order.
        PublicKeys = o.SigningKeys
            .OrderBy(k => k.KeyId == ActiveKeyId ? 0 : 1)
            .Select(k =>
            {
                var spki = _keys[k.KeyId].ExportSubjectPublicKeyInfo();
                return new PublicSigningKey(k.KeyId, spki, PemEncoding.WriteString("PUBLIC KEY", spki));
            })
            .ToList();
    }

    /// <summary>The id of the key that signs.</summary>
    public string ActiveKeyId { get; }

    /// <summary>The public keys, active first.</summary>
    public IReadOnlyList<PublicSigningKey> PublicKeys { get; }

    /// <summary>Signs with the active key.</summary>
    public byte[] Sign(ReadOnlySpan<byte> payload) =>
        _keys[ActiveKeyId].SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    /// <summary>Whether <paramref name="signature"/> is a valid ES256 signature of <paramref name="payload"/> by the key <paramref name="keyId"/> (any published key when empty).</summary>
    public bool Verify(string keyId, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> signature)
    {
        if (keyId.Length == 0)
        {
            foreach (var k in _keys.Values)
            {
                if (k.VerifyData(payload, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)) return true;
            }
            return false;
        }
        return _keys.TryGetValue(keyId, out var key)
            && key.VerifyData(payload, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    public void Dispose()
    {
        foreach (var key in _keys.Values) key.Dispose();
    }
}
