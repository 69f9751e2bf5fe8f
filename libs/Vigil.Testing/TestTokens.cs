using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Vigil.Contracts.Auth;
using Vigil.ServiceDefaults.Auth;

namespace Vigil.Testing;

/// <summary>
/// Tokens for the tests, signed (ES256) by the kit's test signer: a key pair made once per test run, whose public
/// key the test hosts trust through the static-keys path (<see cref="HostSettings"/>), as an air-gapped site trusts
/// its provider's. No shared secret, no HMAC: the services accept only asymmetric signatures. The odd tokens a
/// refusal test needs (expired, not yet valid, another issuer or audience, unsigned, an unknown key, HMAC) come
/// from <see cref="Custom"/>.
/// </summary>
public static class TestTokens
{
    private static readonly ECDsa SignerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly ECDsaSecurityKey Signer = WithThumbprint(new ECDsaSecurityKey(SignerKey));

    /// <summary>The issuer the test hosts expect.</summary>
    public const string Issuer = "vigil-test";

    /// <summary>The audience the test hosts expect.</summary>
    public const string Audience = "vigil";

    /// <summary>The test signer's public key (PEM), as the hosts' Auth:SigningKeys:0.</summary>
    public static string PublicKeyPem { get; } = SignerKey.ExportSubjectPublicKeyInfoPem();

    /// <summary>The test signer's key id.</summary>
    public static string KeyId => Signer.KeyId;

    /// <summary>
    /// The settings that make a host trust the test signer, and present a service token to other services
    /// (configuration keys; a process gets them as environment variables). The provider and client of
    /// appsettings.Development.json (the development provider on 5190) are emptied, so that a host in the
    /// Development environment trusts the test signer only and presents the service token.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> HostSettings { get; } = new Dictionary<string, string?>
    {
        ["Auth:Authority"] = "",
        ["Auth:Issuer"] = Issuer,
        ["Auth:Audience"] = Audience,
        ["Auth:SigningKeys:0"] = PublicKeyPem,
        ["Auth:ClientId"] = "",
        ["Auth:ClientSecret"] = "",
        ["Auth:ServiceToken"] = Mint(new TokenSpec("test-service") { Roles = [VigilRoles.Service], Lifetime = TimeSpan.FromDays(2) }),
    };

    /// <summary>A learner's token.</summary>
    public static string Learner(string learnerId, string? name = null) =>
        Mint(new TokenSpec(learnerId) { Roles = [VigilRoles.Learner], Name = name });

    /// <summary>An exam board member's token for some courses.</summary>
    public static string Board(string memberId, params string[] courses) =>
        Mint(new TokenSpec(memberId) { BoardCourses = courses });

    /// <summary>A course staff member's token for some courses.</summary>
    public static string Staff(string memberId, params string[] courses) =>
        Mint(new TokenSpec(memberId) { StaffCourses = courses });

    /// <summary>A service's token.</summary>
    public static string Service(string name = "test-service") =>
        Mint(new TokenSpec(name) { Roles = [VigilRoles.Service] });

    /// <summary>An ops token.</summary>
    public static string Ops(string id = "ops-1") =>
        Mint(new TokenSpec(id) { Roles = [VigilRoles.Ops] });

    /// <summary>
    /// A token of the test signer with a given lifetime or issue time (expired: <paramref name="now"/> in the
    /// past); with <paramref name="key"/> (base64), HMAC-signed with that key instead, which the hosts refuse.
    /// </summary>
    public static string Custom(string subject, string[]? roles = null, TimeSpan? lifetime = null, DateTimeOffset? now = null, string? key = null) =>
        Mint(new TokenSpec(subject)
        {
            Roles = roles ?? [],
            Lifetime = lifetime ?? TimeSpan.FromHours(1),
            Now = now,
            Hmac = key is null ? null : Convert.FromBase64String(key),
        });

    private static ECDsaSecurityKey WithThumbprint(ECDsaSecurityKey key)
    {
        key.KeyId = AuthenticationExtensions.Thumbprint(key);
        return key;
    }

    /// <summary>Mints a token as <paramref name="spec"/> says.</summary>
    public static string Mint(TokenSpec spec)
    {
        var claims = new List<Claim> { new(VigilClaims.Subject, spec.Subject) };
        claims.AddRange(spec.Roles.Select(r => new Claim(VigilClaims.Role, r)));
        claims.AddRange(spec.BoardCourses.Select(c => new Claim(VigilClaims.BoardCourse, c)));
        claims.AddRange(spec.StaffCourses.Select(c => new Claim(VigilClaims.StaffCourse, c)));
        if (spec.Name is not null) claims.Add(new Claim(VigilClaims.Name, spec.Name));
        var issuedAt = (spec.Now ?? DateTimeOffset.UtcNow).UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = spec.Issuer,
            Audience = spec.Audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = issuedAt,
            NotBefore = spec.NotBefore?.UtcDateTime ?? issuedAt.AddSeconds(-1),
            Expires = issuedAt + spec.Lifetime,
            Claims = spec.Extra?.ToDictionary(kv => kv.Key, kv => kv.Value),
        };
        if (spec.Unsigned) return new JsonWebTokenHandler().CreateToken(descriptor);
        descriptor.SigningCredentials = spec.Hmac is { } hmac
            ? new SigningCredentials(new SymmetricSecurityKey(hmac) { KeyId = Signer.KeyId }, SecurityAlgorithms.HmacSha256)
            : new SigningCredentials(spec.Key ?? Signer, SecurityAlgorithms.EcdsaSha256);
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}

/// <summary>What a test token says and how it is signed (<see cref="TestTokens.Mint"/>).</summary>
public sealed record TokenSpec(string Subject)
{
    /// <summary>Roles (<see cref="VigilRoles"/>).</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>Courses whose board the subject sits on.</summary>
    public IReadOnlyList<string> BoardCourses { get; init; } = [];

    /// <summary>Courses whose staff the subject belongs to.</summary>
    public IReadOnlyList<string> StaffCourses { get; init; } = [];

    /// <summary>The display name.</summary>
    public string? Name { get; init; }

    /// <summary>Other claims, as a provider would send them (nested objects and arrays allowed).</summary>
    public IReadOnlyDictionary<string, object>? Extra { get; init; }

    /// <summary>The issuer (default: the one the hosts expect).</summary>
    public string Issuer { get; init; } = TestTokens.Issuer;

    /// <summary>The audience (default: the one the hosts expect).</summary>
    public string Audience { get; init; } = TestTokens.Audience;

    /// <summary>The issue time (default: now).</summary>
    public DateTimeOffset? Now { get; init; }

    /// <summary>Not valid before (default: a second before the issue time).</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>The lifetime (default: an hour).</summary>
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Another signing key (an unknown key, or a provider's), instead of the test signer.</summary>
    public SecurityKey? Key { get; init; }

    /// <summary>HMAC-sign with these bytes instead (refused by hosts that trust asymmetric keys).</summary>
    public byte[]? Hmac { get; init; }

    /// <summary>No signature at all (<c>alg: none</c>).</summary>
    public bool Unsigned { get; init; }
}
