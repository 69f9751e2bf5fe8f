using System.Text.Json.Serialization;
using HdrHistogram;

namespace Vigil.Bench.Measure;

/// <summary>
/// A latency histogram in microseconds (HdrHistogram, 3 significant digits, up to 5 minutes), safe to record
/// from many tasks. Values are measured from the INTENDED send time of an open-loop schedule, so a stall of
/// the server (or of the client) shows up in every message that should have gone during it
/// (coordinated-omission aware).
/// </summary>
internal sealed class Latency
{
    private const long Highest = 300_000_000;
    private readonly LongConcurrentHistogram _h = new(1, Highest, 3);

    public void RecordTicks(long stopwatchTicks)
    {
        var us = stopwatchTicks * 1_000_000 / System.Diagnostics.Stopwatch.Frequency;
        _h.RecordValue(Math.Clamp(us, 1, Highest));
    }

    public long Count => _h.TotalCount;

    public double PercentileMs(double p) => _h.TotalCount == 0 ? double.NaN : _h.GetValueAtPercentile(p) / 1000.0;

    /// <summary>The recorded values as (value, count) pairs, to send from a worker process to the orchestrator.</summary>
    /// <remarks>From a copy: a late reply may still be recorded while a worker exports, and enumerating the live
    /// histogram then throws (a full-size run lost its worker, and the run, to that).</remarks>
    public List<long[]> Export() => [.. _h.Copy().RecordedValues().Select(v => new[] { v.ValueIteratedTo, v.CountAtValueIteratedTo })];

    public void Import(List<long[]>? pairs)
    {
        if (pairs is null) return;
        foreach (var p in pairs) _h.RecordValueWithCount(Math.Clamp(p[0], 1, Highest), p[1]);
    }

    public LatencySummary Summary() => new(Count, PercentileMs(50), PercentileMs(99), PercentileMs(99.9), _h.TotalCount == 0 ? double.NaN : _h.GetMaxValue() / 1000.0);
}

/// <summary>Latency percentiles in milliseconds.</summary>
internal sealed record LatencySummary(
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("p50_ms")] double P50,
    [property: JsonPropertyName("p99_ms")] double P99,
    [property: JsonPropertyName("p999_ms")] double P999,
    [property: JsonPropertyName("max_ms")] double Max);
