using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Vigil.ServiceDefaults.Telemetry;

namespace Vigil.ServiceDefaults.Health;

/// <summary>
/// Every health check's last result as the gauge <c>vigil.health.status</c> (Prometheus:
/// <c>vigil_health_status{check}</c>: 0 Unhealthy, 1 Degraded, 2 Healthy), so that alerts can see what only
/// a readiness body says otherwise: a broker outage (<c>check="rabbitmq"</c> at 1 while the replica stays in
/// rotation), a gateway that cannot route to some service (<c>check="routing"</c> at 1). The checks run every
/// <see cref="Period"/> in the background (the health check publisher), apart from the probes.
/// </summary>
internal sealed class HealthMetrics : IHealthCheckPublisher
{
    /// <summary>How often the checks run for the gauge.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, HealthStatus> _last = new(StringComparer.Ordinal);

    public HealthMetrics(IMeterFactory meters) =>
        meters.Create(TelemetryExtensions.MeterPrefix + "Health").CreateObservableGauge(
            "vigil.health.status",
            () => _last.Select(c => new Measurement<int>((int)c.Value, new KeyValuePair<string, object?>("check", c.Key))),
            description: "Each health check's last result: 0 Unhealthy, 1 Degraded, 2 Healthy.");

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        foreach (var (name, entry) in report.Entries) _last[name] = entry.Status;
        return Task.CompletedTask;
    }
}
