using System.ComponentModel.DataAnnotations;
using Vigil.ServiceDefaults.Hosting;

namespace Vigil.Gateway.SignIn;

/// <summary>
/// How the dashboard pages sign a person in ("Gateway:SignIn"): the authorization code flow with PKCE at the
/// platform's OpenID Connect provider, then a cookie session of the gateway's own. Sign-in is off while
/// <see cref="ClientId"/> is empty (the pages then say so, and the pages' API takes bearer tokens only).
/// </summary>
internal sealed class SignInOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Gateway:SignIn";

    /// <summary>The scopes asked for when <see cref="Scopes"/> is empty: the ID token, the name, a refresh token and Vigil's audience.</summary>
    public static readonly IReadOnlyList<string> DefaultScopes = ["openid", "profile", "offline_access", "vigil"];

    /// <summary>The provider's issuer URL; empty: Auth:Authority (the provider the services trust).</summary>
    public string? Authority { get; set; }

    /// <summary>The gateway's client id at the provider (a confidential client with the redirect URI <c>https://gateway/signin-oidc</c>). Empty: sign-in off.</summary>
    public string? ClientId { get; set; }

    /// <summary>The client secret (a Secret in production).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>The scopes asked for; empty: <see cref="DefaultScopes"/>. The access token must carry Vigil's audience (Auth:Audience).</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>The session cookie's name.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$")]
    public string CookieName { get; set; } = "vigil-session";

    /// <summary>
    /// How long a session lasts at most from sign-in, whatever the refreshes (then the person signs in again). Keep
    /// it at or below the provider's refresh token lifetime: a session whose refresh token has expired ends at the
    /// next call that needs a fresh access token.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan CookieLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>The access token is refreshed (refresh token grant) once less than this is left of it.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RefreshBefore { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Whether the provider's metadata must come over HTTPS (default: yes outside Development and Testing).</summary>
    public bool? RequireHttpsMetadata { get; set; }

    /// <summary>
    /// A directory (a shared volume) where the gateway keeps the keys that protect its cookies: needed when several
    /// gateway replicas serve the pages, so that a cookie made by one is read by the others. Empty: the keys of this
    /// process and machine only.
    /// </summary>
    public string? KeysDirectory { get; set; }

    /// <summary>Whether sign-in is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(ClientId);

    /// <summary>The scopes asked for.</summary>
    public IReadOnlyList<string> EffectiveScopes => Scopes.Count == 0 ? DefaultScopes : Scopes;

    /// <summary>The provider: <see cref="Authority"/>, else Auth:Authority.</summary>
    public string EffectiveAuthority(string? authAuthority) => string.IsNullOrWhiteSpace(Authority) ? authAuthority ?? "" : Authority;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled) yield break;
        var auth = validationContext.GetService(typeof(Microsoft.Extensions.Options.IOptions<Vigil.ServiceDefaults.Auth.AuthOptions>)) as Microsoft.Extensions.Options.IOptions<Vigil.ServiceDefaults.Auth.AuthOptions>;
        if (string.IsNullOrWhiteSpace(Authority) && string.IsNullOrWhiteSpace(auth?.Value.Authority))
        {
            yield return new ValidationResult("Gateway:SignIn:Authority is required with Gateway:SignIn:ClientId when Auth:Authority is empty (static keys).", [nameof(Authority)]);
        }
        if (!string.IsNullOrWhiteSpace(Authority) && !Uri.TryCreate(Authority, UriKind.Absolute, out _))
        {
            yield return new ValidationResult("Gateway:SignIn:Authority must be an absolute URL (the provider's issuer), or empty for Auth:Authority.", [nameof(Authority)]);
        }
        var requireHttps = RequireHttpsMetadata ?? !validationContext.IsDevelopmentLike();
        if (requireHttps && !string.IsNullOrWhiteSpace(Authority) && !Authority.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult("Gateway:SignIn:Authority must be https:// outside Development and Testing.", [nameof(Authority)]);
        }
        if (string.IsNullOrEmpty(ClientSecret))
        {
            yield return new ValidationResult("Gateway:SignIn:ClientSecret is required with Gateway:SignIn:ClientId (the gateway is a confidential client).", [nameof(ClientSecret)]);
        }
        if (!EffectiveScopes.Contains("openid", StringComparer.Ordinal))
        {
            yield return new ValidationResult("Gateway:SignIn:Scopes must contain openid.", [nameof(Scopes)]);
        }
    }
}
