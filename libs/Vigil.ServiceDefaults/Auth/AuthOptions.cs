using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Vigil.ServiceDefaults.Hosting;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>
/// Token validation, bound from the "Auth" section. Normally <see cref="Authority"/> names the platform's OpenID
/// Connect provider: its discovery document and signing keys (JWKS) are read and followed through rotations
/// (<see cref="ProviderMetadata"/>). Air-gapped sites give <see cref="Issuer"/> and the provider's public keys
/// (<see cref="SigningKeys"/>, PEM) instead. Which claims carry roles and courses is <see cref="Claims"/>.
/// </summary>
public sealed class AuthOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Auth";

    /// <summary>
    /// The provider's issuer URL (e.g. https://id.example.org/realms/mooc): its
    /// <c>/.well-known/openid-configuration</c> names the issuer and the JWKS. Empty: static keys only.
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>The expected issuer. With <see cref="Authority"/> it may be left empty (the discovery document's issuer is used); if set, the two must agree.</summary>
    public string? Issuer { get; set; }

    /// <summary>The expected audience (the provider must put it in the <c>aud</c> of tokens meant for Vigil).</summary>
    [Required]
    public string Audience { get; set; } = "vigil";

    /// <summary>Public keys (PEM, RSA or ECDSA) that may sign tokens, for sites without a reachable provider; several during a rotation. Blank entries are ignored.</summary>
    public List<string> SigningKeys { get; set; } = [];

    /// <summary>The signature algorithms accepted: asymmetric only (never <c>none</c>, never HMAC: no shared key signs tokens).</summary>
    public List<string> Algorithms { get; set; } = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    /// <summary>How often the provider's metadata and keys are re-read: a key the provider removed is refused at the latest this long after.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MetadataRefreshInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The shortest time between two reads (a token naming an unknown key triggers one at most this often).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MetadataMinimumRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one read of the metadata may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan MetadataTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Readiness turns Unhealthy when the keys could not be refreshed for this long (before that, Degraded: the
    /// cached keys keep validating tokens). Default 6 hours: far beyond a provider's restart or a network incident,
    /// well inside the overlap providers keep between publishing a new key and signing with it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan KeysUnreadyAfter { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Whether the metadata must come over HTTPS (default: yes outside Development and Testing).</summary>
    public bool? RequireHttpsMetadata { get; set; }

    /// <summary>Which claims of the provider's tokens give Vigil's roles and courses.</summary>
    public ClaimMappingOptions Claims { get; set; } = new();

    /// <summary>This service's client id at the provider: it gets its tokens for other services by client credentials (with <see cref="Authority"/>).</summary>
    public string? ClientId { get; set; }

    /// <summary>The client secret of <see cref="ClientId"/> (a Secret in production).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>A fixed token this service presents to other services, when no client credentials are configured.</summary>
    public string? ServiceToken { get; set; }

    /// <summary>Clock skew tolerated when checking expiry.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var requireHttps = RequireHttpsMetadata ?? !validationContext.IsDevelopmentLike();
        var hasAuthority = !string.IsNullOrWhiteSpace(Authority);
        if (hasAuthority && !Uri.TryCreate(Authority, UriKind.Absolute, out _))
        {
            yield return new ValidationResult("Auth:Authority must be an absolute URL (the provider's issuer, e.g. https://id.example.org/).", [nameof(Authority)]);
        }
        else if (hasAuthority && requireHttps && !Authority!.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult("Auth:Authority must be https:// outside Development and Testing (or set Auth:RequireHttpsMetadata=false behind a trusted proxy).", [nameof(Authority)]);
        }
        if (!hasAuthority && string.IsNullOrWhiteSpace(Issuer))
        {
            yield return new ValidationResult("Auth:Issuer is required when no Auth:Authority is given (static keys).", [nameof(Issuer)]);
        }
        if (!hasAuthority && !SigningKeys.Any(k => !string.IsNullOrWhiteSpace(k)))
        {
            yield return new ValidationResult("Auth:Authority and Auth:SigningKeys are both empty: set the identity provider's issuer URL (Auth:Authority) or, air-gapped, its public keys (PEM).", [nameof(SigningKeys)]);
        }
        for (var i = 0; i < SigningKeys.Count; i++)
        {
            if (!string.IsNullOrWhiteSpace(SigningKeys[i]) && !IsReadablePublicKey(SigningKeys[i]))
            {
                yield return new ValidationResult($"Auth:SigningKeys:{i} is not a readable PEM public key (ECDSA or RSA).", [nameof(SigningKeys)]);
            }
        }
        foreach (var algorithm in Algorithms)
        {
            if (algorithm.Equals("none", StringComparison.OrdinalIgnoreCase) || algorithm.StartsWith("HS", StringComparison.OrdinalIgnoreCase))
            {
                yield return new ValidationResult($"Auth:Algorithms may not contain '{algorithm}': only asymmetric signatures (RS*, PS*, ES*) are accepted.", [nameof(Algorithms)]);
            }
        }
        if (!string.IsNullOrWhiteSpace(ClientId) && !hasAuthority)
        {
            yield return new ValidationResult("Auth:ClientId needs Auth:Authority (the provider whose token endpoint issues the service's tokens).", [nameof(ClientId)]);
        }
        if (!string.IsNullOrWhiteSpace(ClientId) && string.IsNullOrEmpty(ClientSecret))
        {
            yield return new ValidationResult("Auth:ClientSecret is required with Auth:ClientId.", [nameof(ClientSecret)]);
        }
        foreach (var result in Claims.Validate("Auth:Claims")) yield return result;
    }

    private static bool IsReadablePublicKey(string pem)
    {
        try
        {
            AuthenticationExtensions.LoadPublicKey(pem);
            return true;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return false;
        }
    }
}
