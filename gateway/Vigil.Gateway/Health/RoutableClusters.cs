using System.Diagnostics.Metrics;
using Vigil.Gateway.Routing;
using Vigil.ServiceDefaults.Telemetry;
using Yarp.ReverseProxy;

namespace Vigil.Gateway.Health;

/// <summary>
/// How many replicas the gateway can route to, per cluster: the destinations YARP considers available
/// (resolved, and not failing their active or passive health checks), or null for a cluster that is not
/// configured. Read by the readiness check (<see cref="RoutingHealthCheck"/>) and published as the gauge
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
        [.. ProxyRoutes.Clusters.Select(id => (id, _proxy.TryGetCluster(id, out var cluster) ? cluster.DestinationsState.AvailableDestinations.Count : (int?)null))];
}
