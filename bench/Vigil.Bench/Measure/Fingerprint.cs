using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace Vigil.Bench.Measure;

/// <summary>What the machine was like when the figures were taken.</summary>
internal sealed class Fingerprint
{
    [JsonPropertyName("cores")] public int Cores { get; set; }
    [JsonPropertyName("cpu_model")] public string CpuModel { get; set; } = "";
    [JsonPropertyName("memory_gib")] public double MemoryGiB { get; set; }
    [JsonPropertyName("kernel")] public string Kernel { get; set; } = "";
    [JsonPropertyName("dotnet")] public string DotNet { get; set; } = RuntimeInformation.FrameworkDescription;
    [JsonPropertyName("fsync_p50_ms")] public double FsyncP50Ms { get; set; }
    [JsonPropertyName("fsync_p99_ms")] public double FsyncP99Ms { get; set; }
    [JsonPropertyName("fsync_dir")] public string FsyncDir { get; set; } = "";
    [JsonPropertyName("steal_percent")] public double StealPercent { get; set; }
    [JsonPropertyName("busy_percent_before")] public double BusyPercentBefore { get; set; }
    [JsonPropertyName("loadavg")] public string LoadAverage { get; set; } = "";
    [JsonPropertyName("open_files_limit")] public string OpenFilesLimit { get; set; } = "";
    [JsonPropertyName("utc")] public DateTime Utc { get; set; } = DateTime.UtcNow;

    public static async Task<Fingerprint> TakeAsync(string fsyncDir)
    {
        var f = new Fingerprint { Cores = Environment.ProcessorCount, FsyncDir = fsyncDir };
        try { f.CpuModel = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? ""; } catch (IOException) { }
        try
        {
            var kb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            f.MemoryGiB = Math.Round(double.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) / 1024 / 1024, 1);
        }
        catch (IOException) { }
        try { f.Kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim(); } catch (IOException) { }
        try { f.LoadAverage = File.ReadAllText("/proc/loadavg").Trim(); } catch (IOException) { }
        try { f.OpenFilesLimit = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal))?[26..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(2) is { } lim ? string.Join(" soft / ", lim) + " hard" : ""; } catch (IOException) { }
        // Steal and busy time over one second.
        var a = ProcStats.MachineJiffies();
        await Task.Delay(1000);
        var b = ProcStats.MachineJiffies();
        var total = Math.Max(1, b.Total - a.Total);
        f.StealPercent = Math.Round(100.0 * (b.Steal - a.Steal) / total, 2);
        f.BusyPercentBefore = Math.Round(100.0 * (total - (b.Idle - a.Idle)) / total, 1);
        (f.FsyncP50Ms, f.FsyncP99Ms) = MeasureFsync(fsyncDir);
        return f;
    }

    /// <summary>Latency of a 4 KiB append + fsync, 200 times, where Redis keeps its AOF.</summary>
    private static (double, double) MeasureFsync(string dir)
    {
        var path = Path.Combine(dir, $"vigil-bench-fsync-{Environment.ProcessId}.tmp");
        var samples = new List<double>();
        try
        {
            using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            var block = new byte[4096];
            for (var i = 0; i < 200; i++)
            {
                var sw = Stopwatch.StartNew();
                fs.Write(block);
                fs.Flush(flushToDisk: true);
                samples.Add(sw.Elapsed.TotalMilliseconds);
            }
        }
        catch (IOException) { return (double.NaN, double.NaN); }
        finally { try { File.Delete(path); } catch (IOException) { } }
        samples.Sort();
        return (Math.Round(samples[samples.Count / 2], 3), Math.Round(samples[(int)(samples.Count * 0.99)], 3));
    }
}
