using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Vigil.Contracts.Auth;

/// <summary>
/// Mints tokens signed with the development key, for local runs and tests. Services accept that key only
/// in the Development and Testing environments.
/// </summary>
public static class DevelopmentTokens
{
    /// <summary>A development key for local use (NOT a secret: it is in the repository and only development accepts it).</summary>
    public const string LocalKey = "dmlnaWwtZGV2ZWxvcG1lbnQta2V5LW5vdC1hLXNlY3JldC0wMTIzNDU2Nzg5";

    /// <summary>The signing key behind a base64 development key.</summary>
    public static SymmetricSecurityKey KeyFrom(string base64Key)
    {
        var bytes = Convert.FromBase64String(base64Key);
        if (bytes.Length < 32) throw new ArgumentException("The development key must be at least 32 bytes.", nameof(base64Key));
        return new SymmetricSecurityKey(bytes) { KeyId = "dev" };
    }

    /// <summary>Mints a token.</summary>
    public static string Mint(
        string base64Key,
        string issuer,
        string audience,
        string subject,
        IEnumerable<string>? roles = null,
        IEnumerable<string>? boardCourses = null,
        IEnumerable<string>? staffCourses = null,
        TimeSpan? lifetime = null,
        string? name = null,
        DateTimeOffset? now = null)
    {
        var claims = new List<Claim> { new(VigilClaims.Subject, subject) };
        claims.AddRange((roles ?? []).Select(r => new Claim(VigilClaims.Role, r)));
        claims.AddRange((boardCourses ?? []).Select(c => new Claim(VigilClaims.BoardCourse, c)));
        claims.AddRange((staffCourses ?? []).Select(c => new Claim(VigilClaims.StaffCourse, c)));
        if (name is not null) claims.Add(new Claim(VigilClaims.Name, name));
        var issuedAt = (now ?? DateTimeOffset.UtcNow).UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = issuedAt,
            NotBefore = issuedAt.AddSeconds(-1),
            Expires = issuedAt + (lifetime ?? TimeSpan.FromHours(1)),
            SigningCredentials = new SigningCredentials(KeyFrom(base64Key), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}
