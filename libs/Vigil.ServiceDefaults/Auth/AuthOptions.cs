using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Vigil.ServiceDefaults.Hosting;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>
/// JWT validation, bound from the "Auth" section. In production the issuer is the platform's identity
/// provider and <see cref="SigningKeys"/> its public keys (PEM, ECDSA P-256 or RSA), from a Secret.
/// </summary>
public sealed class AuthOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Auth";

    /// <summary>The expected issuer.</summary>
    [Required]
    public string Issuer { get; set; } = "vigil-dev";

    /// <summary>The expected audience.</summary>
    [Required]
    public string Audience { get; set; } = "vigil";

    /// <summary>Public keys (PEM) that may sign tokens; several during a rotation. Blank entries are ignored.</summary>
    public List<string> SigningKeys { get; set; } = [];

    /// <summary>
    /// A symmetric development key (base64, at least 32 bytes). Accepted ONLY when the host environment is
    /// Development or Testing: any other environment refuses to start with it set.
    /// </summary>
    public string? DevelopmentKey { get; set; }

    /// <summary>The token this service presents to other services (production: from the identity provider).</summary>
    public string? ServiceToken { get; set; }

    /// <summary>Clock skew tolerated when checking expiry.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var developmentLike = validationContext.IsDevelopmentLike();
        var hasDevelopmentKey = !string.IsNullOrEmpty(DevelopmentKey);
        if (hasDevelopmentKey && !developmentLike)
        {
            yield return new ValidationResult("Auth:DevelopmentKey is accepted only in the Development and Testing environments: configure Auth:SigningKeys (the identity provider's public keys) instead.", [nameof(DevelopmentKey)]);
        }
        else if (hasDevelopmentKey && !IsUsableDevelopmentKey(DevelopmentKey!))
        {
            yield return new ValidationResult("Auth:DevelopmentKey must be base64 of at least 32 bytes.", [nameof(DevelopmentKey)]);
        }
        if (!SigningKeys.Any(k => !string.IsNullOrWhiteSpace(k)) && !(hasDevelopmentKey && developmentLike))
        {
            yield return new ValidationResult("Auth:SigningKeys is empty: set the identity provider's public keys (PEM) or, in Development only, Auth:DevelopmentKey.", [nameof(SigningKeys)]);
        }
        for (var i = 0; i < SigningKeys.Count; i++)
        {
            if (!string.IsNullOrWhiteSpace(SigningKeys[i]) && !IsReadablePublicKey(SigningKeys[i]))
            {
                yield return new ValidationResult($"Auth:SigningKeys:{i} is not a readable PEM public key (ECDSA or RSA).", [nameof(SigningKeys)]);
            }
        }
    }

    private static bool IsUsableDevelopmentKey(string key)
    {
        var bytes = new byte[key.Length];
        return Convert.TryFromBase64String(key, bytes, out var length) && length >= 32;
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
