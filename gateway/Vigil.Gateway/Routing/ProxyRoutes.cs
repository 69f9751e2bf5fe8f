namespace Vigil.Gateway.Routing;

/// <summary>
/// The names the gateway's code shares with its YARP configuration (the "ReverseProxy" section of
/// appsettings.json: routes per gRPC service path, one cluster per service): cluster ids, the route
/// policies and the gRPC services that must be routed. The routes and clusters themselves live in the
/// configuration, in YARP's own schema (the gateway tests hold that configuration to these names).
/// </summary>
internal static class ProxyRoutes
{
    /// <summary>The configuration section YARP reads.</summary>
    public const string Section = "ReverseProxy";

    /// <summary>The identity cluster.</summary>
    public const string Identity = "identity";

    /// <summary>The session cluster.</summary>
    public const string Session = "session";

    /// <summary>The certificate cluster.</summary>
    public const string Certificate = "certificate";

    /// <summary>The clusters, one per service.</summary>
    public static readonly IReadOnlyList<string> Clusters = [Identity, Session, Certificate];

    /// <summary>The authorization policy of every route but the public ones: an authenticated caller.</summary>
    public const string AuthenticatedPolicy = "default";

    /// <summary>YARP's policy name for anonymous routes.</summary>
    public const string AnonymousPolicy = "anonymous";

    /// <summary>The rate-limiter policy of photo uploads.</summary>
    public const string UploadPhotoLimit = "upload-photo";

    /// <summary>The rate-limiter policy of session starts.</summary>
    public const string StartSessionLimit = "start-session";

    /// <summary>The gRPC services and the cluster each goes to. Only these paths are proxied.</summary>
    public static readonly IReadOnlyList<(string Service, string Cluster, bool Anonymous)> Services =
    [
        ("vigil.identity.v1.IdentityService", Identity, false),
        ("vigil.session.v1.ExamService", Session, false),
        ("vigil.session.v1.SessionService", Session, false),
        ("vigil.session.v1.ExamBoardService", Session, false),
        ("vigil.session.v1.CourseResultsService", Session, false),
        ("vigil.session.v1.ErasureService", Session, false),
        ("vigil.certificate.v1.DashboardService", Certificate, false),
        ("vigil.certificate.v1.CertificateVerificationService", Certificate, true),
    ];

    /// <summary>The calls where abuse is cheap: their own, more specific routes carry a rate limit.</summary>
    public static readonly IReadOnlyList<(string Path, string Cluster, string Limit)> RateLimited =
    [
        ("/vigil.identity.v1.IdentityService/UploadPhoto", Identity, UploadPhotoLimit),
        ("/vigil.session.v1.SessionService/StartSession", Session, StartSessionLimit),
    ];
}
