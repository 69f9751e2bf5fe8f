using System.Diagnostics;
using System.Text.Json.Serialization;

namespace Vigil.Bench.Measure;

/// <summary>
/// Per second of a measured window (by each message's intended send time): how many messages and the worst
/// latency among them. Where a percentile says how bad the tail is, the timeline says when it happened: one
/// stall of the server shows as a few bad seconds, a slow path as every second bad.
/// </summary>
internal sealed class Timeline(int seconds)
{
    private readonly long[] _count = new long[Math.Max(0, seconds)];
    private readonly long[] _maxMicros = new long[Math.Max(0, seconds)];

    public void Record(long ticksIntoWindow, long latencyTicks)
    {
        var second = ticksIntoWindow / Stopwatch.Frequency;
        if (second < 0 || second >= _count.Length) return;
        var us = latencyTicks * 1_000_000 / Stopwatch.Frequency;
        Interlocked.Increment(ref _count[second]);
        Atomic.Max(ref _maxMicros[second], us);
    }

    public List<long[]> Export() => [.. _count.Select((c, i) => new[] { c, _maxMicros[i] })];

    /// <summary>Merges the workers' timelines: counts add up, the worst latency is the worst of all.</summary>
    public static List<TimelineSecond> Merge(IEnumerable<List<long[]>?> parts)
    {
        var merged = new SortedDictionary<int, (long Count, long Max)>();
        foreach (var part in parts)
        {
            if (part is null) continue;
            for (var i = 0; i < part.Count; i++)
            {
                var (c, m) = merged.GetValueOrDefault(i);
                merged[i] = (c + part[i][0], Math.Max(m, part[i][1]));
            }
        }
        return [.. merged.Select(kv => new TimelineSecond(kv.Key, kv.Value.Count, kv.Value.Max / 1000.0))];
    }
}

/// <summary>One second of a window: messages meant to be sent in it and their worst latency.</summary>
internal sealed record TimelineSecond(
    [property: JsonPropertyName("second")] int Second,
    [property: JsonPropertyName("messages")] long Messages,
    [property: JsonPropertyName("max_ms")] double MaxMs);
