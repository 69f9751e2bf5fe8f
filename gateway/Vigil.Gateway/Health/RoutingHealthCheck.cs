using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Vigil.Gateway.Health;

/// <summary>
/// The gateway's readiness: whether it can route. Every gateway replica sees the same backends, so its
/// readiness must not repeat theirs: were a gateway unready whenever one service has no replica, a dead
/// certificate service would take every gateway out of the Ingress, and exam streams (session) and photo
/// uploads (identity) with it. So:
/// <list type="bullet">
/// <item>Healthy: every cluster has a healthy (or not yet checked) destination (<see cref="RoutableClusters"/>).</item>
/// <item>Degraded (HTTP 200, gRPC SERVING: the gateway stays in rotation): some cluster has none; its calls are
/// still tried on its unhealthy replicas (<c>HealthyOrPanic</c>: a replica alive but judged unhealthy answers for
/// itself), and get UNAVAILABLE "The … service is unavailable" when none answers, while the others are served. The
/// body and the gauge <c>vigil_gateway_available_destinations</c> say which.</item>
/// <item>Unhealthy (out of rotation): no cluster has a healthy destination, so the gateway can route
/// nothing (a broken network policy, a wrong address, the gateway's own DNS failing), or a cluster the
/// gateway serves is missing from its configuration.</item>
/// </list>
/// </summary>
internal sealed class RoutingHealthCheck(RoutableClusters clusters) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var counts = clusters.Count();
        var data = counts.ToDictionary(c => c.Cluster, c => (object)(c.Available ?? 0), StringComparer.Ordinal);
        var missing = counts.Where(c => c.Available is null).Select(c => c.Cluster).ToList();
        var unroutable = counts.Where(c => c.Available is 0).Select(c => c.Cluster).ToList();
        HealthCheckResult result;
        if (missing.Count > 0)
        {
            result = HealthCheckResult.Unhealthy($"not configured: {string.Join(", ", missing)}", data: data);
        }
        else if (unroutable.Count == counts.Count)
        {
            result = HealthCheckResult.Unhealthy("no service has an available replica", data: data);
        }
        else if (unroutable.Count > 0)
        {
            result = HealthCheckResult.Degraded($"no available replica of: {string.Join(", ", unroutable)}", data: data);
        }
        else
        {
            result = HealthCheckResult.Healthy("every service has an available replica", data);
        }
        return Task.FromResult(result);
    }
}
