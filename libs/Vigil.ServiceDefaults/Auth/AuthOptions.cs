namespace Vigil.ServiceDefaults.Auth;

/// <summary>
/// JWT validation, bound from the "Auth" section. In production the issuer is the platform's identity
/// provider and <see cref="SigningKeys"/> its public keys (PEM, ECDSA P-256 or RSA), from a Secret.
/// </summary>
public sealed class AuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Auth";

    /// <summary>The expected issuer.</summary>
    public string Issuer { get; set; } = "vigil-dev";

    /// <summary>The expected audience.</summary>
    public string Audience { get; set; } = "vigil";

    /// <summary>Public keys (PEM) that may sign tokens; several during a rotation.</summary>
    public List<string> SigningKeys { get; set; } = [];

    /// <summary>
    /// A symmetric development key (base64, at least 32 bytes). Accepted ONLY when the host environment is
    /// Development or Testing: any other environment refuses to start with it set.
    /// </summary>
    public string? DevelopmentKey { get; set; }

    /// <summary>The token this service presents to other services (production: from the identity provider).</summary>
    public string? ServiceToken { get; set; }

    /// <summary>Clock skew tolerated when checking expiry.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}
