using Vigil.Contracts.Auth;

namespace Vigil.Cli.Cli;

/// <summary>The roles a development token can be minted for.</summary>
internal enum DevRole
{
    Learner,
    Board,
    Staff,
    Ops,
}

/// <summary>Who <c>--as role:subject[:course,course]</c> names.</summary>
internal sealed record DevIdentity(DevRole Role, string Subject, IReadOnlyList<string> Courses)
{
    public const string Syntax = "role:subject[:course,course]";

    /// <summary>The role names on the command line: learner, board, staff, ops.</summary>
    public static readonly string[] RoleNames = [.. Enum.GetValues<DevRole>().Select(r => r.ToString().ToLowerInvariant())];

    public static DevRole? ParseRole(string text) =>
        Enum.GetValues<DevRole>().Cast<DevRole?>().FirstOrDefault(r => r.ToString()!.Equals(text, StringComparison.OrdinalIgnoreCase));

    /// <summary>"learner:ada", "board:m1:course-1,course-2", "staff:s1:course-1"; the error to show, or null.</summary>
    public static DevIdentity? TryParse(string spec, out string? error)
    {
        var parts = spec.Split(':', 3);
        error = null;
        if (parts.Length < 2 || parts[1].Length == 0)
        {
            error = $"--as takes {Syntax}, not '{spec}'.";
            return null;
        }
        if (ParseRole(parts[0]) is not { } role)
        {
            error = $"--as: unknown role '{parts[0]}': {string.Join(", ", RoleNames)}.";
            return null;
        }
        return new DevIdentity(role, parts[1], parts.Length > 2 ? CourseList.Split([parts[2]]) : []);
    }
}

/// <summary>Course lists given as repeated options, comma-separated values, or both.</summary>
internal static class CourseList
{
    public static IReadOnlyList<string> Split(IEnumerable<string>? values) =>
        [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
}

/// <summary>Tokens minted from the development key (only a Development or Testing configuration accepts them).</summary>
internal sealed record DevTokens(string Key, string Issuer, string Audience)
{
    public const string DefaultIssuer = "vigil-dev";
    public const string DefaultAudience = "vigil";

    public string Mint(DevRole role, string subject, IReadOnlyList<string> courses, string? name = null, TimeSpan? lifetime = null) => role switch
    {
        DevRole.Learner => DevelopmentTokens.Mint(Key, Issuer, Audience, subject, roles: [VigilRoles.Learner], name: name, lifetime: lifetime),
        DevRole.Board => DevelopmentTokens.Mint(Key, Issuer, Audience, subject, boardCourses: courses, name: name, lifetime: lifetime),
        DevRole.Staff => DevelopmentTokens.Mint(Key, Issuer, Audience, subject, staffCourses: courses, name: name, lifetime: lifetime),
        DevRole.Ops => DevelopmentTokens.Mint(Key, Issuer, Audience, subject, roles: [VigilRoles.Ops], name: name, lifetime: lifetime),
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    public string Mint(DevIdentity who) => Mint(who.Role, who.Subject, who.Courses);
}
