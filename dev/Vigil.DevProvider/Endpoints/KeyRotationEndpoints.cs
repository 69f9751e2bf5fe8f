using Vigil.DevProvider.Accounts;

namespace Vigil.DevProvider.Endpoints;

/// <summary>Key rotation on demand (Testing only): a test rotates the provider's keys mid-run as a real provider does.</summary>
internal static class KeyRotationEndpoints
{
    public static void MapSigningKeyRotation(this WebApplication app)
    {
        app.MapGet("/dev/keys", (SigningKeys keys) => Results.Ok(new { keys = keys.KeyIds }));
        // A new key signs from now on; the old ones stay published.
        app.MapPost("/dev/keys/rotate", (SigningKeys keys) => Results.Ok(new { signing = keys.Rotate(), keys = keys.KeyIds })).DisableAntiforgery();
        // The old keys are no longer published: tokens they signed must be refused once Vigil re-reads the keys.
        app.MapPost("/dev/keys/retire", (SigningKeys keys) => Results.Ok(new { retired = keys.RetireOld(), keys = keys.KeyIds })).DisableAntiforgery();
    }
}
