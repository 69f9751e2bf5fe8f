using System.Diagnostics.Metrics;
using Vigil.Gateway.Routing;
using Vigil.ServiceDefaults.Telemetry;
using Yarp.ReverseProxy;

namespace Vigil.Gateway.Health;

/// <summary>
/// How many replicas the gateway can route to, per cluster: the resolved destinations not failing their active or
/// passive health checks (healthy or not yet checked), or null for a cluster that is not configured. Counted from each
/// destination's health, not from YARP's available destinations: the clusters' policy is <c>HealthyOrPanic</c>, which
/// makes every destination available when none is healthy (so that one replica judged unhealthy under a reconnect
/// storm is still tried, and its own pushback paces the clients), and readiness must still say "nothing healthy". Read by the readiness check (<see cref="RoutingHealthCheck"/>) and published as the gauge
/// <c>vigil.gateway.available_destinations</c> (Prometheus: <c>vigil_gateway_available_destinations{cluster}</c>),
/// which the <c>VigilServiceUnroutable</c> alert watches (docs/operations.md).
/// </summary>
internal sealed class RoutableClusters
{
    /// <summary>The gateway's meter.</summary>
    public const string MeterName = TelemetryExtensions.MeterPrefix + "Gateway";

    private readonly IProxyStateLookup _proxy;

    public RoutableClusters(IProxyStateLookup proxy, IMeterFactory meters)
    {
        _proxy = proxy;
        meters.Create(MeterName).CreateObservableGauge(
            "vigil.gateway.available_destinations",
            () => Count()
                .Where(c => c.Available is not null)
                .Select(c => new Measurement<int>(c.Available!.Value, new KeyValuePair<string, object?>("cluster", c.Cluster))),
            unit: "{destination}",
            description: "Replicas of each service the gateway can route to (resolved and passing health checks).");
    }

    /// <summary>Each of the gateway's clusters with its available destinations (null: not configured).</summary>
    public IReadOnlyList<(string Cluster, int? Available)> Count() =>
        [.. ProxyRoutes.Clusters.Select(id => (id, _proxy.TryGetCluster(id, out var cluster) ? cluster.Destinations.Values.Count(Routable) : (int?)null))];

    /// <summary>Healthy or not yet checked, by both the active probe and the passive policy.</summary>
    private static bool Routable(Yarp.ReverseProxy.Model.DestinationState destination) =>
        destination.Health.Active != Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy
        && destination.Health.Passive != Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy;
}
