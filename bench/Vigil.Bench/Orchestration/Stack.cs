using Vigil.Testing;

namespace Vigil.Bench.Orchestration;

/// <summary>
/// Everything under test, as real processes on loopback, pinned to the server core: identity, session and
/// certificate from their build output, N gateway processes in front of them (replicas, as production
/// scales the edge), the echo server (the ceilings) and one gateway in front of the echo server.
/// </summary>
internal sealed class Stack : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    public required string Redis { get; init; }
    public required string RabbitUri { get; init; }
    public ServiceProcess Identity { get; private set; } = null!;
    public ServiceProcess Session { get; private set; } = null!;
    public ServiceProcess Certificate { get; private set; } = null!;
    public List<ServiceProcess> Gateways { get; } = [];
    public ServiceProcess EchoGateway { get; private set; } = null!;
    public Child Echo { get; private set; } = null!;
    public string EchoAddress { get; private set; } = "";
    public int? RedisPid { get; init; }
    public int? RabbitPid { get; init; }
    private Dictionary<string, string?> _common = [];
    private string? _core;

    public static async Task<Stack> StartAsync(BenchOptions o, string redis, string rabbitUri, int? redisPid, int? rabbitPid, Action<string> log)
    {
        var s = new Stack { Redis = redis, RabbitUri = rabbitUri, RedisPid = redisPid, RabbitPid = rabbitPid };
        var core = o.Pin ? Pinning.ServerCore : null;
        if (o.Pin)
        {
            if (redisPid is { } rp) Pinning.Pin(rp, Pinning.ServerCore);
            if (rabbitPid is { } qp) Pinning.Pin(qp, Pinning.ServerCore);
        }

        // The echo server (ceilings).
        var echoGrpc = ServiceProcess.FreePort();
        var echoHttp = ServiceProcess.FreePort();
        s.Echo = Child.Start(["echo-server", "--grpc-port", echoGrpc.ToString(System.Globalization.CultureInfo.InvariantCulture), "--http-port", echoHttp.ToString(System.Globalization.CultureInfo.InvariantCulture)], core,
            new Dictionary<string, string>(o.ServerEnv) { ["DOTNET_PROCESSOR_COUNT"] = o.Pin ? "1" : Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        s._owned.Add(s.Echo);
        s.EchoAddress = $"http://127.0.0.1:{echoGrpc}";

        var common = new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = redis,
            ["RabbitMq:Uri"] = rabbitUri,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        };
        if (o.Pin) common["DOTNET_PROCESSOR_COUNT"] = "1";
        foreach (var (k, v) in o.ServerEnv) common[k] = v;
        s._common = common;
        s._core = core;

        log("starting identity, session and certificate");
        // Two photo checks at once even on its one core, so that an unpinned setup (--setup-unpinned) uses both cores.
        var identity = Start("services/identity/Vigil.Identity", common, new() { ["Photos:MaxConcurrentDecodes"] = "2" }, core);
        var certificate = Start("services/certificate/Vigil.Certificate", common, null, core);
        s.Identity = await identity;
        s._owned.Add(s.Identity);
        s.Certificate = await certificate;
        s._owned.Add(s.Certificate);
        s.Session = await Start("services/session/Vigil.Session", common, new() { ["Services:Identity"] = s.Identity.GrpcAddress.ToString().TrimEnd('/') }, core);
        s._owned.Add(s.Session);
        foreach (var svc in new[] { s.Identity, s.Session, s.Certificate }) await svc.WaitReadyAsync(TimeSpan.FromSeconds(60));

        log($"starting {o.Gateways} gateway process(es) and the echo gateway");
        // The bench's learners each upload two photos and start once; the rate limits stay as configured by default.
        var gatewayTasks = Enumerable.Range(0, o.Gateways).Select(_ => Start("gateway/Vigil.Gateway", common, GatewaySettings.Merge(
            GatewaySettings.Cluster("identity", (s.Identity.GrpcAddress, s.Identity.HttpAddress)),
            GatewaySettings.Cluster("session", (s.Session.GrpcAddress, s.Session.HttpAddress)),
            GatewaySettings.Cluster("certificate", (s.Certificate.GrpcAddress, s.Certificate.HttpAddress))), core)).ToList();
        var echo = (new Uri(s.EchoAddress), (Uri?)new Uri($"http://127.0.0.1:{echoHttp}"));
        var echoGatewayTask = Start("gateway/Vigil.Gateway", common,
            GatewaySettings.Merge([.. GatewaySettings.Clusters.Select(c => GatewaySettings.Cluster(c, echo))]), core);
        foreach (var t in gatewayTasks) { s.Gateways.Add(await t); s._owned.Add(s.Gateways[^1]); }
        s.EchoGateway = await echoGatewayTask;
        s._owned.Add(s.EchoGateway);
        // The gateways probe their destinations before routing to them.
        foreach (var g in s.Gateways.Append(s.EchoGateway)) await g.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(1));
        return s;
    }

    private static string Addr(Uri u) => u.ToString().TrimEnd('/');

    /// <summary>
    /// Replaces the session process with a fresh one on the same ports (SIGKILL: the state is in Redis), so that
    /// memory per stream is measured from a process that has not held the earlier rounds' streams.
    /// </summary>
    public async Task RestartSessionAsync()
    {
        var (grpc, http) = (Session.GrpcPort, Session.HttpPort);
        await Session.KillAsync();
        Session = await Start("services/session/Vigil.Session", _common, new() { ["Services:Identity"] = Addr(Identity.GrpcAddress) }, _core, grpc, http);
        _owned.Add(Session);
        await Session.WaitReadyAsync(TimeSpan.FromSeconds(60));
    }

    private static async Task<ServiceProcess> Start(string project, Dictionary<string, string?> common, Dictionary<string, string?>? extra, string? core, int? grpcPort = null, int? httpPort = null)
    {
        var settings = new Dictionary<string, string?>(common);
        if (extra is not null) foreach (var (k, v) in extra) settings[k] = v;
        var p = await ServiceProcess.StartAsync(project, settings, grpcPort, httpPort, TimeSpan.FromSeconds(90));
        if (core is not null) Pinning.Pin(p.Pid, core);
        return p;
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
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try { await _owned[i].DisposeAsync(); }
            catch (InvalidOperationException) { }
        }
    }
}
