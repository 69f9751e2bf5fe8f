using System.Net;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Vigil.Gateway.Routing;

/// <summary>
/// Builds the active health probes. YARP's default copies the cluster's request version (HTTP/2, exact) into
/// the probe, which fails against a service's HTTP/1.1 management port: every destination would then be
/// unhealthy, YARP would fall back to all of them, and a dead replica would keep getting calls. So: a
/// destination with a health address (the management port) is probed over HTTP/1.1; one without is probed
/// on its gRPC address over h2c.
/// </summary>
internal sealed class ProbingRequestFactory : IProbingRequestFactory
{
    public HttpRequestMessage CreateRequest(ClusterModel cluster, DestinationModel destination)
    {
        var health = destination.Config.Health;
        var useHealthAddress = !string.IsNullOrEmpty(health);
        var baseAddress = useHealthAddress ? health! : destination.Config.Address;
        var path = cluster.Config.HealthCheck?.Active?.Path ?? "/health/ready";
        var uri = new Uri(new Uri(baseAddress.TrimEnd('/') + "/"), path.TrimStart('/'));
        return new HttpRequestMessage(HttpMethod.Get, uri)
        {
            Version = useHealthAddress ? HttpVersion.Version11 : HttpVersion.Version20,
            VersionPolicy = useHealthAddress ? HttpVersionPolicy.RequestVersionOrLower : HttpVersionPolicy.RequestVersionExact,
        };
    }
}
