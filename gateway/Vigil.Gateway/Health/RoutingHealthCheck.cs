using Microsoft.Extensions.Diagnostics.HealthChecks;
using Vigil.Gateway.Routing;
using Yarp.ReverseProxy;

namespace Vigil.Gateway.Health;

/// <summary>
/// The gateway's readiness: it can route, that is every cluster has at least one destination that YARP
/// considers available (resolved, and not failing its active or passive health checks). While every replica
/// of a service is unhealthy, or its name resolves to nothing, the gateway is not ready and says which.
/// </summary>
internal sealed class RoutingHealthCheck(IProxyStateLookup proxy) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var unroutable = new List<string>();
        var counts = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var id in ProxyRoutes.Clusters)
        {
            var available = proxy.TryGetCluster(id, out var cluster) ? cluster.DestinationsState.AvailableDestinations.Count : 0;
            counts[id] = available;
            if (available == 0) unroutable.Add(id);
        }
        return Task.FromResult(unroutable.Count == 0
            ? HealthCheckResult.Healthy("every service has an available replica", counts)
            : HealthCheckResult.Unhealthy($"no available replica of: {string.Join(", ", unroutable)}", data: counts));
    }
}
