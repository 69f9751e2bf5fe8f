using System.Diagnostics.Metrics;

namespace Vigil.ServiceDefaults.Telemetry;

/// <summary>
/// What a service deleted of learners' data, by kind (docs/privacy.md): <c>vigil_erasure_erased_total{kind}</c> for
/// erasure requests, <c>vigil_retention_deleted_total{kind}</c> for data whose retention period ended (what a sweeper
/// deleted; keys that expire by a Redis TTL are counted by Redis itself, <c>expired_keys</c>).
/// </summary>
public sealed class PrivacyMetrics
{
    private readonly Counter<long> _erased;
    private readonly Counter<long> _retention;

    /// <summary>Creates the instruments on the host's meter factory.</summary>
    public PrivacyMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(TelemetryExtensions.MeterPrefix + "Privacy");
        _erased = meter.CreateCounter<long>("vigil.erasure.erased", description: "Records erased by erasure requests, by kind.");
        _retention = meter.CreateCounter<long>("vigil.retention.deleted", description: "Records deleted because their retention period ended, by kind.");
    }

    /// <summary>Counts records of <paramref name="kind"/> erased by an erasure request.</summary>
    public void Erased(string kind, long count)
    {
        if (count > 0) _erased.Add(count, new KeyValuePair<string, object?>("kind", kind));
    }

    /// <summary>Counts records of <paramref name="kind"/> deleted at the end of their retention.</summary>
    public void RetentionDeleted(string kind, long count)
    {
        if (count > 0) _retention.Add(count, new KeyValuePair<string, object?>("kind", kind));
    }
}
