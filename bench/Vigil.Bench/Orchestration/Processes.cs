using System.Diagnostics;
using System.Globalization;
using System.Text;
using Vigil.Bench.Load;

namespace Vigil.Bench.Orchestration;

/// <summary>Pinning with taskset and the bench's own child processes (the echo server, the load workers).</summary>
internal static class Pinning
{
    public const string LoadCore = "0";
    public const string ServerCore = "1";

    /// <summary>Pins every thread of a process (and of its descendants) to a core; threads created later inherit it.</summary>
    public static void Pin(int pid, string core)
    {
        foreach (var p in Measure.ProcStats.Tree(pid))
        {
            using var proc = Process.Start(new ProcessStartInfo("taskset", ["-a", "-p", "-c", core, p.ToString(CultureInfo.InvariantCulture)])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            proc.WaitForExit();
        }
    }
}

/// <summary>A child process of the bench itself (echo server or load worker), optionally started under taskset.</summary>
internal sealed class Child : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly Queue<string> _lines = new();
    private readonly SemaphoreSlim _lineReady = new(0);

    private Child(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) { _lineReady.Release(); return; }
            lock (_lines) _lines.Enqueue(e.Data);
            _lineReady.Release();
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) { if (_stderr.Length < 64_000) _stderr.AppendLine(e.Data); } };
    }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public static Child Start(string[] args, string? core, IDictionary<string, string>? env = null)
    {
        var dll = typeof(Child).Assembly.Location;
        var psi = core is null
            ? new ProcessStartInfo("dotnet", [dll, .. args])
            : new ProcessStartInfo("taskset", ["-c", core, "dotnet", dll, .. args]);
        psi.RedirectStandardInput = true;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + string.Join(' ', args));
        var child = new Child(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The next stdout line that starts with <paramref name="prefix"/>, or null when the process ended or the time ran out.</summary>
    public async Task<string?> WaitLineAsync(string prefix, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            lock (_lines)
            {
                while (_lines.Count > 0)
                {
                    var line = _lines.Dequeue();
                    if (line.StartsWith(prefix, StringComparison.Ordinal)) return line;
                }
            }
            if (_process.HasExited && _lines.Count == 0)
            {
                await Task.Delay(50);
                lock (_lines) if (_lines.Count == 0) return null;
                continue;
            }
            await _lineReady.WaitAsync(TimeSpan.FromMilliseconds(200));
        }
        return null;
    }

    public async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

/// <summary>A group of load workers running one stream scenario.</summary>
internal sealed class WorkerGroup : IAsyncDisposable
{
    private readonly List<Child> _workers = [];
    private readonly List<string> _specFiles = [];

    public static async Task<WorkerGroup> StartAsync(IReadOnlyList<StreamSpec> specs, string? core, string tempDir)
    {
        var g = new WorkerGroup();
        foreach (var spec in specs)
        {
            var file = Path.Combine(tempDir, $"spec-{Guid.NewGuid():N}.json");
            await File.WriteAllTextAsync(file, SpecIo.Write(spec));
            g._specFiles.Add(file);
            g._workers.Add(Child.Start(["worker", file], core));
        }
        return g;
    }

    public IEnumerable<int> Pids => _workers.Select(w => w.Pid);

    /// <summary>Waits until every worker opened its streams; returns (opened, failed).</summary>
    public async Task<(int Opened, int Failed)> WaitReadyAsync(TimeSpan timeout)
    {
        var opened = 0;
        var failed = 0;
        foreach (var w in _workers)
        {
            var line = await w.WaitLineAsync("READY", timeout)
                ?? throw new InvalidOperationException("a load worker did not get ready:\n" + w.Stderr);
            var parts = line.Split(' ');
            opened += int.Parse(parts[1], CultureInfo.InvariantCulture);
            failed += int.Parse(parts[2], CultureInfo.InvariantCulture);
        }
        return (opened, failed);
    }

    public Task GoAsync() => Task.WhenAll(_workers.Select(w => w.SendAsync("GO")));

    public async Task<List<WorkerResult>> ResultsAsync(TimeSpan timeout)
    {
        var results = new List<WorkerResult>();
        foreach (var w in _workers)
        {
            var line = await w.WaitLineAsync("RESULT ", timeout)
                ?? throw new InvalidOperationException("a load worker gave no result:\n" + w.Stderr);
            results.Add(SpecIo.ReadResult(line["RESULT ".Length..]));
        }
        return results;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var w in _workers) await w.DisposeAsync();
        foreach (var f in _specFiles) { try { File.Delete(f); } catch (IOException) { } }
    }
}
