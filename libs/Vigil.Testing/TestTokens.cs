using Vigil.ServiceDefaults.Auth;

namespace Vigil.Testing;

/// <summary>Tokens signed with the development key, as the development configuration accepts.</summary>
public static class TestTokens
{
    /// <summary>The development key the test hosts are configured with.</summary>
    public const string Key = DevelopmentTokens.LocalKey;

    /// <summary>The issuer the test hosts expect.</summary>
    public const string Issuer = "vigil-dev";

    /// <summary>The audience the test hosts expect.</summary>
    public const string Audience = "vigil";

    /// <summary>A learner's token.</summary>
    public static string Learner(string learnerId, string? name = null) =>
        DevelopmentTokens.Mint(Key, Issuer, Audience, learnerId, roles: [VigilRoles.Learner], name: name);

    /// <summary>An exam board member's token for some courses.</summary>
    public static string Board(string memberId, params string[] courses) =>
        DevelopmentTokens.Mint(Key, Issuer, Audience, memberId, boardCourses: courses);

    /// <summary>A course staff member's token for some courses.</summary>
    public static string Staff(string memberId, params string[] courses) =>
        DevelopmentTokens.Mint(Key, Issuer, Audience, memberId, staffCourses: courses);

    /// <summary>A service's token.</summary>
    public static string Service(string name = "test-service") =>
        DevelopmentTokens.Mint(Key, Issuer, Audience, name, roles: [VigilRoles.Service]);

    /// <summary>An ops token.</summary>
    public static string Ops(string id = "ops-1") =>
        DevelopmentTokens.Mint(Key, Issuer, Audience, id, roles: [VigilRoles.Ops]);

    /// <summary>Any token, e.g. expired (lifetime negative via <paramref name="now"/>).</summary>
    public static string Custom(string subject, string[]? roles = null, TimeSpan? lifetime = null, DateTimeOffset? now = null, string? key = null) =>
        DevelopmentTokens.Mint(key ?? Key, Issuer, Audience, subject, roles: roles, lifetime: lifetime, now: now);
}
