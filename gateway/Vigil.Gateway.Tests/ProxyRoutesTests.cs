using System.Net;
using Vigil.Gateway.Routing;

namespace Vigil.Gateway.Tests;

public sealed class ProxyRoutesTests
{
    [Theory]
    [InlineData("vigil.identity.v1.IdentityService", "identity")]
    [InlineData("vigil.session.v1.ExamService", "session")]
    [InlineData("vigil.session.v1.SessionService", "session")]
    [InlineData("vigil.session.v1.ExamBoardService", "session")]
    [InlineData("vigil.certificate.v1.DashboardService", "certificate")]
    [InlineData("vigil.certificate.v1.CertificateVerificationService", "certificate")]
    public void Each_gRPC_service_goes_to_its_cluster(string service, string cluster)
    {
        var route = Assert.Single(ProxyRoutes.Routes(), r => r.RouteId == service);
        Assert.Equal(cluster, route.ClusterId);
        Assert.Equal($"/{service}/{{**method}}", route.Match.Path);
    }

    [Fact]
    public void Only_certificate_verification_is_anonymous()
    {
        var anonymous = ProxyRoutes.Routes().Where(r => r.AuthorizationPolicy == ProxyRoutes.AnonymousPolicy).Select(r => r.RouteId);
        Assert.Equal(["vigil.certificate.v1.CertificateVerificationService"], anonymous);
        Assert.All(ProxyRoutes.Routes().Where(r => r.AuthorizationPolicy != ProxyRoutes.AnonymousPolicy),
            r => Assert.Equal(ProxyRoutes.AuthenticatedPolicy, r.AuthorizationPolicy));
    }

    [Fact]
    public void Uploads_and_starts_carry_a_rate_limit()
    {
        var routes = ProxyRoutes.Routes();
        Assert.Equal(ProxyRoutes.UploadPhotoLimit, routes.Single(r => r.Match.Path == "/vigil.identity.v1.IdentityService/UploadPhoto").RateLimiterPolicy);
        Assert.Equal(ProxyRoutes.StartSessionLimit, routes.Single(r => r.Match.Path == "/vigil.session.v1.SessionService/StartSession").RateLimiterPolicy);
    }

    [Fact]
    public void Clusters_speak_HTTP2_exactly_keep_streams_for_a_whole_exam_and_check_health()
    {
        var clusters = ProxyRoutes.Clusters(
            new ServiceAddresses { Identity = "http://a:1,http://b:1", IdentityHealth = "http://a:2,http://b:2", Session = "http://s:1", Certificate = "http://c:1" },
            new GatewayOptions());
        var identity = clusters.Single(c => c.ClusterId == "identity");
        Assert.Equal(2, identity.Destinations!.Count);
        Assert.Equal("http://b:2", identity.Destinations["identity-2"].Health);
        Assert.All(clusters, c =>
        {
            Assert.Equal(HttpVersion.Version20, c.HttpRequest!.Version);
            Assert.Equal(HttpVersionPolicy.RequestVersionExact, c.HttpRequest.VersionPolicy);
            Assert.Equal(TimeSpan.FromHours(4), c.HttpRequest.ActivityTimeout);
            Assert.True(c.HealthCheck!.Active!.Enabled);
            Assert.Equal("/health/ready", c.HealthCheck.Active.Path);
            Assert.Equal("PowerOfTwoChoices", c.LoadBalancingPolicy);
        });
    }
}
