using System.Globalization;
using StackExchange.Redis;

namespace Vigil.Bench.Measure;

/// <summary>
/// What a server did during a window that explains a latency tail: the .NET process's garbage collections and
/// their pause time (from its Prometheus /metrics, the runtime's System.Runtime meter), and Redis's forks and
/// AOF rewrites (INFO): a rewrite's disk traffic delays every fsync of an appendfsync-always Redis.
/// </summary>
internal static class ServerDiagnostics
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>GC counters of a service: pause seconds and collections per generation (empty when unreadable).</summary>
    public static async Task<Dictionary<string, double>> GcAsync(Uri httpAddress)
    {
        var result = new Dictionary<string, double>();
        try
        {
            var text = await Http.GetStringAsync(new Uri(httpAddress, "/metrics"));
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith('#')) continue;
                var space = line.LastIndexOf(' ');
                if (space < 0 || !double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) continue;
                var name = line[..space];
                if (name.StartsWith("dotnet_gc_pause_time_seconds_total", StringComparison.Ordinal)) result["gc_pause_seconds"] = value;
                else if (name.StartsWith("dotnet_jit_compilation_time_seconds_total", StringComparison.Ordinal)) result["jit_seconds"] = value;
                else if (name.StartsWith("dotnet_jit_compiled_methods_total", StringComparison.Ordinal)) result["jit_methods"] = value;
                else if (name.StartsWith("dotnet_gc_collections_total", StringComparison.Ordinal))
                {
                    foreach (var gen in new[] { "gen0", "gen1", "gen2" })
                    {
                        if (name.Contains($"\"{gen}\"", StringComparison.Ordinal)) result[$"gc_{gen}_collections"] = value;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { }
        return result;
    }

    /// <summary>Redis's fork and AOF rewrite counters (empty when unreadable).</summary>
    public static async Task<Dictionary<string, double>> RedisAsync(string configuration)
    {
        var result = new Dictionary<string, double>();
        try
        {
            await using var mux = await ConnectionMultiplexer.ConnectAsync(configuration + ",allowAdmin=true");
            var server = mux.GetServer(mux.GetEndPoints()[0]);
            foreach (var group in await server.InfoAsync())
            {
                foreach (var kv in group)
                {
                    if (kv.Key is "total_forks" or "aof_rewrites" or "latest_fork_usec" or "aof_current_size" or "used_memory"
                        && double.TryParse(kv.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    {
                        result["redis_" + kv.Key] = v;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException) { }
        return result;
    }

    /// <summary>after − before for counters, the value after for gauges (names listed).</summary>
    public static void AddDelta(Dictionary<string, double> into, Dictionary<string, double> before, Dictionary<string, double> after, params string[] gauges)
    {
        foreach (var (k, v) in after)
        {
            into[k] = gauges.Contains(k) ? v : Math.Round(v - before.GetValueOrDefault(k), 4);
        }
    }
}
