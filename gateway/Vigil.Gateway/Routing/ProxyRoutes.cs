using System.Net;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Vigil.Gateway.Routing;

/// <summary>
/// The proxy's routes and clusters, built from configuration: one route per gRPC service path prefix, one
/// cluster per service, HTTP/2 only (h2c needs RequestVersionExact), active health checks and balancing.
/// </summary>
internal static class ProxyRoutes
{
    /// <summary>The cluster names.</summary>
    public const string Identity = "identity";

    /// <summary>The session cluster.</summary>
    public const string Session = "session";

    /// <summary>The certificate cluster.</summary>
    public const string Certificate = "certificate";

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
        ("vigil.certificate.v1.DashboardService", Certificate, false),
        ("vigil.certificate.v1.CertificateVerificationService", Certificate, true),
    ];

    /// <summary>The routes.</summary>
    public static IReadOnlyList<RouteConfig> Routes()
    {
        var routes = new List<RouteConfig>();
        foreach (var (service, cluster, anonymous) in Services)
        {
            routes.Add(new RouteConfig
            {
                RouteId = service,
                ClusterId = cluster,
                AuthorizationPolicy = anonymous ? AnonymousPolicy : AuthenticatedPolicy,
                Match = new RouteMatch { Path = $"/{service}/{{**method}}" },
            });
        }
        // The two calls where abuse is cheap get their own routes (more specific: they win) with a rate limit.
        routes.Add(new RouteConfig
        {
            RouteId = "vigil.identity.v1.IdentityService/UploadPhoto",
            ClusterId = Identity,
            AuthorizationPolicy = AuthenticatedPolicy,
            RateLimiterPolicy = UploadPhotoLimit,
            Match = new RouteMatch { Path = "/vigil.identity.v1.IdentityService/UploadPhoto" },
            Order = -1,
        });
        routes.Add(new RouteConfig
        {
            RouteId = "vigil.session.v1.SessionService/StartSession",
            ClusterId = Session,
            AuthorizationPolicy = AuthenticatedPolicy,
            RateLimiterPolicy = StartSessionLimit,
            Match = new RouteMatch { Path = "/vigil.session.v1.SessionService/StartSession" },
            Order = -1,
        });
        return routes;
    }

    /// <summary>The clusters, one per service, with its replicas.</summary>
    public static IReadOnlyList<ClusterConfig> Clusters(ServiceAddresses addresses, GatewayOptions options) =>
    [
        Cluster(Identity, addresses.Identity, addresses.IdentityHealth, options),
        Cluster(Session, addresses.Session, addresses.SessionHealth, options),
        Cluster(Certificate, addresses.Certificate, addresses.CertificateHealth, options),
    ];

    private static ClusterConfig Cluster(string id, string addresses, string? healthAddresses, GatewayOptions options)
    {
        var grpc = ServiceAddresses.Split(addresses);
        var health = ServiceAddresses.Split(healthAddresses);
        if (grpc.Length == 0) throw new InvalidOperationException($"Services: no address for the {id} service.");
        var destinations = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < grpc.Length; i++)
        {
            destinations[$"{id}-{i + 1}"] = new DestinationConfig
            {
                Address = grpc[i],
                Health = i < health.Length ? health[i] : null,
            };
        }
        return new ClusterConfig
        {
            ClusterId = id,
            LoadBalancingPolicy = options.LoadBalancingPolicy,
            Destinations = destinations,
            HttpRequest = new ForwarderRequestConfig
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                ActivityTimeout = options.ActivityTimeout,
            },
            HttpClient = new HttpClientConfig
            {
                EnableMultipleHttp2Connections = true,
            },
            HealthCheck = new HealthCheckConfig
            {
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = options.HealthCheckInterval,
                    Timeout = options.HealthCheckTimeout,
                    Policy = "ConsecutiveFailures",
                    Path = options.HealthCheckPath,
                },
            },
        };
    }
}
