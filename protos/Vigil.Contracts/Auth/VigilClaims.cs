namespace Vigil.Contracts.Auth;

/// <summary>The claims Vigil reads from a token.</summary>
public static class VigilClaims
{
    /// <summary>The subject: the learner's or staff member's id, or the calling service's name.</summary>
    public const string Subject = "sub";

    /// <summary>Roles: <see cref="VigilRoles"/>. Repeated.</summary>
    public const string Role = "role";

    /// <summary>A course whose exam board the subject sits on. Repeated.</summary>
    public const string BoardCourse = "board_course";

    /// <summary>A course whose staff the subject belongs to. Repeated.</summary>
    public const string StaffCourse = "staff_course";

    /// <summary>The subject's display name (optional).</summary>
    public const string Name = "name";
}

/// <summary>Role values.</summary>
public static class VigilRoles
{
    /// <summary>A learner: reads and writes only their own data.</summary>
    public const string Learner = "learner";

    /// <summary>Platform operations: erasure and operations APIs.</summary>
    public const string Ops = "ops";

    /// <summary>Another Vigil service, calling service to service.</summary>
    public const string Service = "service";
}
