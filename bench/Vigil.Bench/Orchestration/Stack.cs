using System.Globalization;
using Vigil.Testing;

namespace Vigil.Bench.Orchestration;

/// <summary>
/// Everything under test, as real processes on loopback, pinned to the server core: identity, session and
/// certificate from their build output with N gateway processes in front of them (replicas, as production
/// scales the edge) — the test kit's <see cref="ProcessStack"/> — plus the echo server (the ceilings) and one
/// gateway in front of the echo server.
/// </summary>
internal sealed class Stack : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private ProcessStack _vigil = null!;
    /// <summary>The session process's own settings, read at each (re)start: a variant's runtime knobs go here.</summary>
    private readonly Dictionary<string, string?> _sessionSettings = [];

    public ServiceProcess Identity => _vigil.Identity;
    public ServiceProcess Session => _vigil.Session;
    public ServiceProcess Certificate => _vigil.Certificate!;
    public IReadOnlyList<ServiceProcess> Gateways => _vigil.Gateways;
    public ServiceProcess EchoGateway { get; private set; } = null!;
    public Child Echo { get; private set; } = null!;
    public string EchoAddress { get; private set; } = "";
    public int? RedisPid { get; init; }
    public int? RabbitPid { get; init; }

    public static async Task<Stack> StartAsync(BenchOptions o, string redis, string rabbitUri, int? redisPid, int? rabbitPid, Action<string> log)
    {
        var s = new Stack { RedisPid = redisPid, RabbitPid = rabbitPid };
        var core = o.Pin ? Pinning.ServerCore : null;
        if (o.Pin)
        {
            if (redisPid is { } rp) Pinning.Pin(rp, Pinning.ServerCore);
            if (rabbitPid is { } qp) Pinning.Pin(qp, Pinning.ServerCore);
        }
        try
        {
            // The echo server (ceilings).
            var echoGrpc = ServiceProcess.FreePort();
            var echoHttp = ServiceProcess.FreePort();
            s.Echo = Child.Start(["echo-server", "--grpc-port", echoGrpc.ToString(CultureInfo.InvariantCulture), "--http-port", echoHttp.ToString(CultureInfo.InvariantCulture)], core,
                new Dictionary<string, string>(o.ServerEnv) { ["DOTNET_PROCESSOR_COUNT"] = o.Pin ? "1" : Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) });
            s.EchoAddress = $"http://127.0.0.1:{echoGrpc}";

            var common = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
            };
            if (o.Pin) common["DOTNET_PROCESSOR_COUNT"] = "1";
            foreach (var (k, v) in o.ServerEnv) common[k] = v;
            Action<ServiceProcess>? pin = core is null ? null : p => Pinning.Pin(p.Pid, core);

            log($"starting identity, session and certificate, then {o.Gateways} gateway process(es)");
            s._vigil = await ProcessStack.StartAsync(new ProcessStackOptions
            {
                Redis = redis,
                RabbitMqUri = rabbitUri,
                Settings = common,
                // Two photo checks at once even on its one core, so that an unpinned setup (--setup-unpinned) uses both cores.
                IdentitySettings = new Dictionary<string, string?> { ["Photos:MaxConcurrentDecodes"] = "2" },
                SessionSettings = s._sessionSettings,
                // The bench's learners each upload two photos and start once; the gateways' limits stay as configured by default.
                Gateways = [.. Enumerable.Range(0, o.Gateways).Select(_ => new Dictionary<string, string?>())],
                StartTimeout = StartTimeout,
                Started = pin,
            });

            log("starting the echo gateway");
            var echo = (new Uri(s.EchoAddress), (Uri?)new Uri($"http://127.0.0.1:{echoHttp}"));
            var echoSettings = GatewaySettings.Merge(
                common,
                new Dictionary<string, string?> { ["Redis:Configuration"] = redis, ["RabbitMq:Uri"] = rabbitUri },
                GatewaySettings.Merge([.. GatewaySettings.Clusters.Select(c => GatewaySettings.Cluster(c, echo))]));
            s.EchoGateway = await ServiceProcess.StartAsync("gateway/Vigil.Gateway", echoSettings, timeout: StartTimeout);
            pin?.Invoke(s.EchoGateway);
            await s.EchoGateway.WaitReadyAsync(StartTimeout);
            // Every gRPC service of the echo gateway goes to the echo server (Unimplemented for what it does not echo: reached).
            await ProcessStack.WaitRoutesAsync(s.EchoGateway, identity: true, session: true, certificate: true, StartTimeout);
            return s;
        }
        catch
        {
            await s.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Replaces the session process with a fresh one on the same ports (SIGKILL: the state is in Redis), so that
    /// memory per stream is measured from a process that has not held the earlier rounds' streams.
    /// </summary>
    public Task RestartSessionAsync() => _vigil.RestartSessionAsync(0);

    /// <summary>
    /// Restarts the session process (SIGKILL, same ports) with <paramref name="environment"/> on top of the run's
    /// settings, replacing the previous variant's (none: back to the run's own).
    /// </summary>
    public Task RestartSessionAsync(IReadOnlyDictionary<string, string>? environment)
    {
        _sessionSettings.Clear();
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) _sessionSettings[k] = v;
        return _vigil.RestartSessionAsync(0);
    }

    /// <summary>Pins every server process (Redis and RabbitMQ included) to <paramref name="cores"/>.</summary>
    public void PinServers(string cores)
    {
        foreach (var pid in ServerPids().Values.SelectMany(p => p)) Pinning.Pin(pid, cores);
    }

    /// <summary>The server processes by role, for CPU and memory sampling.</summary>
    public Dictionary<string, int[]> ServerPids()
    {
        var d = new Dictionary<string, int[]>
        {
            ["session"] = [Session.Pid],
            ["identity"] = [Identity.Pid],
            ["certificate"] = [Certificate.Pid],
            ["gateways"] = [.. Gateways.Select(g => g.Pid)],
            ["echo"] = [Echo.Pid],
            ["echo-gateway"] = [EchoGateway.Pid],
        };
        if (RedisPid is { } r) d["redis"] = [r];
        if (RabbitPid is { } q) d["rabbitmq"] = [q];
        return d;
    }

    public async ValueTask DisposeAsync()
    {
        if (EchoGateway is not null) await EchoGateway.DisposeAsync();
        if (_vigil is not null) await _vigil.DisposeAsync();
        if (Echo is not null) await Echo.DisposeAsync();
    }
}
