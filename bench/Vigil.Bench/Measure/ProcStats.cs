using System.Globalization;

namespace Vigil.Bench.Measure;

/// <summary>CPU time and resident memory of processes, read from /proc.</summary>
internal static class ProcStats
{
    private static readonly long TicksPerSecond = ReadClockTicks();

    /// <summary>User + system CPU seconds of a process so far (0 when it is gone).</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name is in parentheses and may hold spaces: split after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
            var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (utime + stime) / (double)TicksPerSecond;
        }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }

    /// <summary>CPU seconds of a process and all its descendants (RabbitMQ runs as a tree).</summary>
    public static double TreeCpuSeconds(int pid) => Tree(pid).Sum(CpuSeconds);

    /// <summary>Resident memory in bytes (VmRSS).</summary>
    public static long RssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var kb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                return kb * 1024;
            }
        }
        catch (IOException) { }
        return 0;
    }

    /// <summary>Open file descriptors of a process.</summary>
    public static int OpenFiles(int pid)
    {
        try { return Directory.GetFiles($"/proc/{pid}/fd").Length; }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }

    /// <summary>The process and its descendants.</summary>
    public static List<int> Tree(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var ppid = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (!children.TryGetValue(ppid, out var list)) children[ppid] = list = [];
                list.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        var result = new List<int>();
        var queue = new Queue<int>([root]);
        while (queue.Count > 0)
        {
            var p = queue.Dequeue();
            result.Add(p);
            if (children.TryGetValue(p, out var kids)) foreach (var k in kids) queue.Enqueue(k);
        }
        return result;
    }

    /// <summary>Machine-wide jiffies from /proc/stat's first line: (total, idle+iowait, steal).</summary>
    public static (long Total, long Idle, long Steal) MachineJiffies()
    {
        var first = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var v = first.Skip(1).Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var total = v.Take(8).Sum();
        return (total, v[3] + v[4], v.Length > 7 ? v[7] : 0);
    }

    private static long ReadClockTicks()
    {
        try
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true, UseShellExecute = false })!;
            var s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return long.TryParse(s, CultureInfo.InvariantCulture, out var t) && t > 0 ? t : 100;
        }
        catch (System.ComponentModel.Win32Exception) { return 100; }
    }
}

/// <summary>A CPU/RSS snapshot of a named group of server processes.</summary>
internal sealed class ServerSample
{
    public Dictionary<string, double> Cpu { get; } = [];
    public Dictionary<string, long> Rss { get; } = [];
    public long MachineTotal { get; init; }
    public long MachineSteal { get; init; }
    public long MachineIdle { get; init; }
    public long TimestampTicks { get; init; }

    public static ServerSample Take(IReadOnlyDictionary<string, int[]> groups)
    {
        var (total, idle, steal) = ProcStats.MachineJiffies();
        var s = new ServerSample { MachineTotal = total, MachineIdle = idle, MachineSteal = steal, TimestampTicks = System.Diagnostics.Stopwatch.GetTimestamp() };
        foreach (var (name, pids) in groups)
        {
            s.Cpu[name] = pids.Sum(p => name == "rabbitmq" ? ProcStats.TreeCpuSeconds(p) : ProcStats.CpuSeconds(p));
            s.Rss[name] = pids.Sum(ProcStats.RssBytes);
        }
        return s;
    }
}
