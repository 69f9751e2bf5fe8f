using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Vigil.ServiceDefaults.Hosting;

namespace Vigil.Certificate.Signing;

/// <summary>Certificate signing keys, bound from the "Certificates" section (a Secret in production).</summary>
internal sealed class SigningOptions : IValidatableObject
{
    public const string Section = "Certificates";

    /// <summary>The key id of the development-only key in appsettings.Development.json: refused elsewhere.</summary>
    public const string DevelopmentKeyId = "development-only-not-a-secret";

    /// <summary>Every key: the active one signs, the others (rotated out) still verify and stay published.</summary>
    public List<SigningKeyOptions> SigningKeys { get; set; } = [];

    /// <summary>The key new certificates are signed with.</summary>
    public string ActiveKeyId { get; set; } = string.Empty;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Validate(validationContext.IsDevelopmentLike()) is { } problem) yield return new ValidationResult(problem, [nameof(SigningKeys)]);
    }

    /// <summary>Checks the keys; returns the problem (naming no key material), or null when they are usable.</summary>
    public string? Validate(bool developmentLike)
    {
        if (SigningKeys.Count == 0) return "Certificates:SigningKeys is empty: configure at least one ECDSA P-256 private key (PEM).";
        if (string.IsNullOrWhiteSpace(ActiveKeyId)) return "Certificates:ActiveKeyId is not set.";
        if (SigningKeys.Select(k => k.KeyId).Distinct(StringComparer.Ordinal).Count() != SigningKeys.Count) return "Certificates:SigningKeys has duplicate key ids.";
        if (SigningKeys.All(k => k.KeyId != ActiveKeyId)) return $"Certificates:ActiveKeyId '{ActiveKeyId}' is not among Certificates:SigningKeys.";
        foreach (var key in SigningKeys)
        {
            if (string.IsNullOrWhiteSpace(key.KeyId)) return "Certificates:SigningKeys: every key needs a KeyId.";
            if (!developmentLike && key.KeyId == DevelopmentKeyId) return "The development-only certificate signing key is refused outside Development and Testing.";
            try
            {
                using var ec = ECDsa.Create();
                ec.ImportFromPem(key.PrivateKeyPem);
                var p = ec.ExportParameters(includePrivateParameters: true);
                if (p.D is null || p.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
                {
                    return $"Certificates:SigningKeys '{key.KeyId}' must be an ECDSA P-256 private key.";
                }
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                return $"Certificates:SigningKeys '{key.KeyId}' is not a readable PEM private key.";
            }
        }
        return null;
    }
}

/// <summary>One signing key.</summary>
internal sealed class SigningKeyOptions
{
    /// <summary>The key's id, published with its public key.</summary>
    public string KeyId { get; set; } = string.Empty;

    /// <summary>The ECDSA P-256 private key, PEM ("EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY").</summary>
    public string PrivateKeyPem { get; set; } = string.Empty;
}
