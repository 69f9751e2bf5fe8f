using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Grpc.Net.Client;

namespace Vigil.Testing;

/// <summary>
/// A Vigil service (or the gateway) run as a real process on loopback ports, for end-to-end and fault
/// tests: started from its build output, killed with SIGKILL or stopped with SIGTERM like Kubernetes does.
/// Its output is kept (<see cref="Output"/>) so tests can check what it logged, and waited on line by line
/// (<see cref="CountLinesAsync"/>).
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable, IGrpcEndpoint
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<LineWaiter> _waiters = [];

    private ServiceProcess(Process process, string name, IPAddress host, int grpcPort, int httpPort)
    {
        _process = process;
        Name = name;
        Host = host;
        GrpcPort = grpcPort;
        HttpPort = httpPort;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
    }

    /// <summary>The project's name, e.g. "Vigil.Session".</summary>
    public string Name { get; }

    /// <summary>The loopback address it listens on: 127.0.0.1, or another one when it runs as one of several pods.</summary>
    public IPAddress Host { get; }

    /// <summary>The loopback port of its gRPC (HTTP/2) endpoint.</summary>
    public int GrpcPort { get; }

    /// <summary>The loopback port of its HTTP/1.1 endpoint (health, metrics; the gateway's browser port).</summary>
    public int HttpPort { get; }

    /// <summary>The gRPC address, "http://127.0.0.1:port".</summary>
    public Uri GrpcAddress => new($"http://{Host}:{GrpcPort}");

    /// <summary>The HTTP address.</summary>
    public Uri HttpAddress => new($"http://{Host}:{HttpPort}");

    /// <summary>The process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Everything it printed so far.</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>The setting that runs another build of the project (its .dll path) instead of its build output.</summary>
    public const string AssemblySetting = "ServiceProcess:Assembly";

    /// <summary>
    /// Starts a project's build output (the same configuration as the running tests) with settings as
    /// environment variables ("Redis:Configuration" becomes Redis__Configuration), in the Development
    /// environment, and waits until /health/live answers.
    /// </summary>
    /// <param name="host">The loopback address to listen on (127.0.0.1 unless told: pods of one name get one each).</param>
    /// <param name="hosts">Names it resolves through a hosts file of its own (<see cref="LoopbackHosts"/>), e.g. a gateway in front of pods.</param>
    /// <param name="projectPath">The project folder relative to the repository root, e.g. "services/session/Vigil.Session".</param>
    public static async Task<ServiceProcess> StartAsync(string projectPath, IDictionary<string, string?> settings, int? grpcPort = null, int? httpPort = null, TimeSpan? timeout = null,
        IPAddress? host = null, LoopbackHosts? hosts = null)
    {
        var name = Path.GetFileName(projectPath.TrimEnd('/'));
        // "ServiceProcess:Assembly" (not passed on): another build of the same project, e.g. a ReadyToRun publish the
        // benchmark compares with the build output.
        var dll = settings.TryGetValue(AssemblySetting, out var other) && other is not null
            ? other
            : Path.Combine(RepositoryRoot, projectPath, "bin", BuildConfiguration, "net10.0", name + ".dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"Build output not found: {dll}. Reference the project from the test project so it is built.");
        var g = grpcPort ?? FreePort();
        var h = httpPort ?? FreePort();
        var address = host ?? IPAddress.Loopback;
        var (fileName, arguments) = hosts is null ? ("dotnet", new[] { dll }) : hosts.Command("dotnet", [dll]);
        var psi = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Development";
        psi.Environment["Kestrel__Endpoints__Grpc__Url"] = $"http://{address}:{g}";
        psi.Environment["Kestrel__Endpoints__Grpc__Protocols"] = "Http2";
        psi.Environment["Kestrel__Endpoints__Management__Url"] = $"http://{address}:{h}";
        psi.Environment["Kestrel__Endpoints__Management__Protocols"] = "Http1";
        foreach (var (k, v) in TestTokens.HostSettings)
        {
            psi.Environment[k.Replace(":", "__", StringComparison.Ordinal)] = v;
        }
        foreach (var (k, v) in settings)
        {
            if (k != AssemblySetting) psi.Environment[k.Replace(":", "__", StringComparison.Ordinal)] = v;
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {name}.");
        var service = new ServiceProcess(process, name, address, g, h);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await service.WaitLiveAsync(timeout ?? TimeSpan.FromSeconds(60));
        }
        catch
        {
            // Nobody else holds it yet: a process that never answered would outlive the test run (a development
            // provider started by a failed test was still running after the clean-clone run here).
            await service.DisposeAsync();
            throw;
        }
        return service;
    }

    /// <summary>Waits until /health/live answers 200.</summary>
    public async Task WaitLiveAsync(TimeSpan timeout) => await WaitAsync("/health/live", timeout);

    /// <summary>Waits until /health/ready answers 200 (Redis and RabbitMQ reachable).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout) => await WaitAsync("/health/ready", timeout);

    private async Task WaitAsync(string path, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            await Eventually.Async(async () =>
            {
                if (_process.HasExited) throw new InvalidOperationException($"{Name} exited with {_process.ExitCode}:\n{Output}");
                using var response = await http.GetAsync(new Uri(HttpAddress, path));
                return response.StatusCode == HttpStatusCode.OK;
            }, $"{Name} to answer {path}", timeout, TimeSpan.FromMilliseconds(100), ex => ex is HttpRequestException or TaskCanceledException);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n{Output}", ex);
        }
    }

    /// <summary>A channel to its gRPC endpoint as a test client sees it (<see cref="TestChannel.ToProcess"/>).</summary>
    public GrpcChannel Channel(string? token) => TestChannel.ToProcess(GrpcAddress, token);

    /// <summary>
    /// How many requests of one route it served (<c>http_route</c> on its /metrics, e.g.
    /// "/vigil.session.v1.ExamService/GetExam"): which of several replicas a call went to.
    /// </summary>
    public async Task<long> RequestCountAsync(string route) =>
        (long)await MetricAsync("http_server_request_duration_seconds_count", $"http_route=\"{route}\"");

    /// <summary>
    /// The gRPC calls it holds open now (<c>http_server_active_requests</c> of method POST on its /metrics): its open
    /// exam streams, once no unary call is in flight; how many streams each of several replicas holds.
    /// </summary>
    public async Task<int> ActiveCallsAsync() =>
        (int)await MetricAsync("http_server_active_requests", "http_request_method=\"POST\"");

    /// <summary>The sum of a metric's series on its /metrics that carry <paramref name="label"/>.</summary>
    private async Task<double> MetricAsync(string metric, string label)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var text = await http.GetStringAsync(new Uri(HttpAddress, "/metrics"));
        double sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(metric + "{", StringComparison.Ordinal) || !line.Contains(label, StringComparison.Ordinal)) continue;
            sum += double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return sum;
    }

    /// <summary>
    /// Waits until at least <paramref name="atLeast"/> lines of its output (those already printed included) match,
    /// at most <paramref name="timeout"/>; returns how many matched then. Woken by each line as it is printed.
    /// </summary>
    public async Task<int> CountLinesAsync(Func<string, bool> match, int atLeast, TimeSpan timeout)
    {
        LineWaiter waiter;
        lock (_output)
        {
            var count = _output.ToString().Split('\n').Count(l => match(l.TrimEnd('\r')));
            if (count >= atLeast) return count;
            waiter = new LineWaiter(match, atLeast, count);
            _waiters.Add(waiter);
        }
        try
        {
            await waiter.Done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
        }
        lock (_output)
        {
            _waiters.Remove(waiter);
            return waiter.Count;
        }
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.AppendLine(line);
            foreach (var w in _waiters)
            {
                if (!w.Match(line)) continue;
                w.Count++;
                if (w.Count >= w.AtLeast) w.Done.TrySetResult();
            }
        }
    }

    private sealed class LineWaiter(Func<string, bool> match, int atLeast, int count)
    {
        public Func<string, bool> Match { get; } = match;

        public int AtLeast { get; } = atLeast;

        public int Count { get; set; } = count;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>kill -STOP: the process hangs, its connections stay open and nothing answers them (until killed).</summary>
    public async Task PauseAsync()
    {
        using var stop = Process.Start(new ProcessStartInfo("kill", ["-STOP", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        await stop.WaitForExitAsync();
    }

    /// <summary>kill -9: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as Kubernetes sends it; waits for the exit and returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
            await kill.WaitForExitAsync();
        }
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    /// <summary>A free loopback TCP port.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The repository root (the folder with Vigil.slnx).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vigil.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("Vigil.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The build configuration of the running tests (Debug or Release).</summary>
    public static string BuildConfiguration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
}
