using System.Diagnostics;
using System.Text.Json.Serialization;

namespace Vigil.Bench.Measure;

/// <summary>
/// Samples the servers once a second during a window: the session's garbage-collection pauses and JIT time (its /metrics) and
/// the CPU each server role used. Lined up with the latency timeline (both on the machine's monotonic clock), it
/// says what the servers were doing in the seconds whose latency was worst.
/// </summary>
internal sealed class ServerTimeline
{
    private readonly List<(ServerSample Server, double GcPause, double Gen2, double Jit)> _samples = [];

    public static async Task<ServerTimeline> RunAsync(Uri sessionHttp, Dictionary<string, int[]> pids, CancellationToken stop)
    {
        var t = new ServerTimeline();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var server = ServerSample.Take(pids);
                var gc = await ServerDiagnostics.GcAsync(sessionHttp);
                t._samples.Add((server, gc.GetValueOrDefault("gc_pause_seconds"), gc.GetValueOrDefault("gc_gen2_collections"), gc.GetValueOrDefault("jit_seconds")));
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
            }
        }
        catch (OperationCanceledException) { }
        return t;
    }

    /// <summary>Per second of the window that started at <paramref name="windowStartTicks"/>: GC pause and CPU share per role.</summary>
    public List<ServerSecond> Seconds(long windowStartTicks)
    {
        var result = new List<ServerSecond>();
        for (var i = 1; i < _samples.Count; i++)
        {
            var (s0, p0, g0, j0) = _samples[i - 1];
            var (s1, p1, g1, j1) = _samples[i];
            var second = (int)Math.Floor((s0.TimestampTicks - windowStartTicks) / (double)Stopwatch.Frequency);
            if (second < 0) continue;
            var wall = (s1.TimestampTicks - s0.TimestampTicks) / (double)Stopwatch.Frequency;
            result.Add(new ServerSecond(second, Math.Round((p1 - p0) * 1000, 1), g1 - g0, Math.Round((j1 - j0) * 1000, 1),
                s1.Cpu.ToDictionary(kv => kv.Key, kv => Math.Round(100 * (kv.Value - s0.Cpu.GetValueOrDefault(kv.Key)) / wall, 1))));
        }
        return result;
    }
}

/// <summary>One second: the session's GC pause (ms), its gen2 collections, its JIT compilation time (ms), and each role's CPU (% of one core).</summary>
internal sealed record ServerSecond(
    [property: JsonPropertyName("second")] int Second,
    [property: JsonPropertyName("session_gc_pause_ms")] double SessionGcPauseMs,
    [property: JsonPropertyName("session_gen2")] double SessionGen2,
    [property: JsonPropertyName("session_jit_ms")] double SessionJitMs,
    [property: JsonPropertyName("cpu_percent")] Dictionary<string, double> CpuPercent);
