using Microsoft.Extensions.Configuration;
using Vigil.Gateway.Routing;

namespace Vigil.Gateway.Tests;

/// <summary>The gateway's YARP configuration (the "ReverseProxy" section of its appsettings.json).</summary>
public sealed class ProxyRoutesTests
{
    private static readonly IConfigurationSection Proxy = new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
        .Build()
        .GetSection(ProxyRoutes.Section);

    private static IEnumerable<IConfigurationSection> Routes => Proxy.GetSection("Routes").GetChildren();

    [Theory]
    [InlineData("vigil.identity.v1.IdentityService", "identity")]
    [InlineData("vigil.session.v1.ExamService", "session")]
    [InlineData("vigil.session.v1.SessionService", "session")]
    [InlineData("vigil.session.v1.ExamBoardService", "session")]
    [InlineData("vigil.session.v1.CourseResultsService", "session")]
    [InlineData("vigil.certificate.v1.DashboardService", "certificate")]
    [InlineData("vigil.certificate.v1.CertificateVerificationService", "certificate")]
    public void Each_gRPC_service_goes_to_its_cluster(string service, string cluster)
    {
        var route = Assert.Single(Routes, r => r["Match:Path"] == $"/{service}/{{**method}}");
        Assert.Equal(cluster, route["ClusterId"]);
        Assert.Contains((service, cluster), ProxyRoutes.Services.Select(s => (s.Service, s.Cluster)));
    }

    [Fact]
    public void Every_route_goes_to_a_known_cluster_and_every_service_is_routed()
    {
        Assert.All(Routes, r => Assert.Contains(r["ClusterId"], ProxyRoutes.Clusters));
        Assert.Equal(ProxyRoutes.Services.Count + ProxyRoutes.RateLimited.Count, Routes.Count());
        Assert.Equal(ProxyRoutes.Clusters.Order(), Proxy.GetSection("Clusters").GetChildren().Select(c => c.Key).Order());
    }

    [Fact]
    public void Only_certificate_verification_is_anonymous()
    {
        var anonymous = Routes.Where(r => r["AuthorizationPolicy"] == ProxyRoutes.AnonymousPolicy).Select(r => r["Match:Path"]);
        Assert.Equal(["/vigil.certificate.v1.CertificateVerificationService/{**method}"], anonymous);
        Assert.All(Routes.Where(r => r["AuthorizationPolicy"] != ProxyRoutes.AnonymousPolicy),
            r => Assert.Equal(ProxyRoutes.AuthenticatedPolicy, r["AuthorizationPolicy"]));
    }

    [Fact]
    public void Uploads_and_starts_carry_a_rate_limit_on_a_more_specific_route()
    {
        foreach (var (path, cluster, limit) in ProxyRoutes.RateLimited)
        {
            var route = Assert.Single(Routes, r => r["Match:Path"] == path);
            Assert.Equal(limit, route["RateLimiterPolicy"]);
            Assert.Equal(cluster, route["ClusterId"]);
            Assert.Equal("-1", route["Order"]);
        }
    }

    [Fact]
    public void Clusters_speak_HTTP2_exactly_keep_streams_for_a_whole_exam_and_check_each_replica()
    {
        foreach (var cluster in Proxy.GetSection("Clusters").GetChildren())
        {
            Assert.Equal("2", cluster["HttpRequest:Version"]);
            Assert.Equal("RequestVersionExact", cluster["HttpRequest:VersionPolicy"]);
            Assert.Equal("04:00:00", cluster["HttpRequest:ActivityTimeout"]);
            Assert.Equal("True", cluster["HealthCheck:Active:Enabled"], ignoreCase: true);
            Assert.Equal("/health/ready", cluster["HealthCheck:Active:Path"]);
            Assert.Equal("True", cluster["HealthCheck:Passive:Enabled"], ignoreCase: true);
            // Replicas that pass (or have not yet met) their checks; when none does, every replica rather than none: a
            // single replica marked unhealthy under a reconnect storm must not turn the gateway into the outage.
            Assert.Equal("HealthyOrPanic", cluster["HealthCheck:AvailableDestinationsPolicy"]);
            // The default destination: the service's gRPC address and its management port for the probes.
            var destination = Assert.Single(cluster.GetSection("Destinations").GetChildren());
            Assert.Equal(cluster.Key, destination.Key);
            Assert.NotEqual(new Uri(destination["Address"]!).Port, new Uri(destination["Health"]!).Port);
        }
    }
}
