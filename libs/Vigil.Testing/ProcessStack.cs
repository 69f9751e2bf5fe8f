using System.Globalization;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;

namespace Vigil.Testing;

/// <summary>What a <see cref="ProcessStack"/> runs, and with which settings.</summary>
public sealed class ProcessStackOptions
{
    private static readonly IReadOnlyDictionary<string, string?> None = new Dictionary<string, string?>();

    /// <summary>Redis, "host:port" (with options); <see cref="TestEnvironment.Redis"/> unless told.</summary>
    public string? Redis { get; init; }

    /// <summary>The AMQP URI of the suite's RabbitMQ virtual host.</summary>
    public required string RabbitMqUri { get; init; }

    /// <summary>Whether the identity service runs.</summary>
    public bool Identity { get; init; } = true;

    /// <summary>How many session service replicas run (0 for none), each on ports of its own, behind every gateway.</summary>
    public int Sessions { get; init; } = 1;

    /// <summary>
    /// When set, the session replicas are pods behind this one name, as behind a Kubernetes headless Service: replica
    /// i listens on 127.0.0.(2+i), every one on the same ports; the name answers with each replica once it is ready
    /// (<see cref="ProcessStack.AddSessionReplicaAsync"/>, <see cref="ProcessStack.DrainSessionAsync"/>), through a
    /// hosts file only the gateways see (<see cref="LoopbackHosts"/>); the gateways' session cluster is
    /// <c>http://name:port</c>, which the gateway resolves per address itself, as in production.
    /// </summary>
    public string? SessionPods { get; init; }

    /// <summary>Whether the certificate service runs.</summary>
    public bool Certificate { get; init; } = true;

    /// <summary>One entry a gateway in front of the services (none when empty), with the settings of that gateway alone.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string?>> Gateways { get; init; } = [None];

    /// <summary>Settings of every process (configuration keys, "Section:Key"; they reach the process as environment variables).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = None;

    /// <summary>Settings of the identity service only.</summary>
    public IReadOnlyDictionary<string, string?> IdentitySettings { get; init; } = None;

    /// <summary>Settings of the session replicas only.</summary>
    public IReadOnlyDictionary<string, string?> SessionSettings { get; init; } = None;

    /// <summary>Settings of the certificate service only.</summary>
    public IReadOnlyDictionary<string, string?> CertificateSettings { get; init; } = None;

    /// <summary>The first gateway's HTTP (pages) port, when the test must know it before the stack starts (a provider's redirect URI names it); a free port unless told.</summary>
    public int? GatewayPagesPort { get; init; }

    /// <summary>Settings of every gateway.</summary>
    public IReadOnlyDictionary<string, string?> GatewaySettings { get; init; } = None;

    /// <summary>How long a process may take to start and get ready: generous, a shared 2-core machine under load is slow.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>Called with each process as soon as it runs (the benchmark pins it to a core).</summary>
    public Action<ServiceProcess>? Started { get; init; }
}

/// <summary>
/// Vigil as real processes on loopback, for the end-to-end and fault suites and the benchmark: identity, session
/// replicas, certificate and gateways in front, from their build output, against a real Redis and RabbitMQ.
/// Every service keeps its ports for the life of the stack, so a killed or stopped one comes back at the same
/// address (<see cref="StartSessionAsync"/>, <see cref="StartCertificateAsync"/>); processes that died are kept
/// (<see cref="AllProcesses"/>) so log checks see everything any of them printed. Its channels go to the first
/// gateway.
/// </summary>
public sealed class ProcessStack : IAsyncDisposable, IGrpcEndpoint
{
    private const string IdentityProject = "services/identity/Vigil.Identity";
    private const string SessionProject = "services/session/Vigil.Session";
    private const string CertificateProject = "services/certificate/Vigil.Certificate";
    private const string GatewayProject = "gateway/Vigil.Gateway";

    private readonly ProcessStackOptions _options;
    private readonly (int Grpc, int Http) _identityPorts = (ServiceProcess.FreePort(), ServiceProcess.FreePort());
    private readonly List<(int Grpc, int Http)> _sessionPorts;
    private readonly (int Grpc, int Http) _certificatePorts = (ServiceProcess.FreePort(), ServiceProcess.FreePort());
    private readonly List<ServiceProcess?> _sessions;
    private readonly LoopbackHosts? _hosts;
    private readonly List<ServiceProcess> _gateways = [];
    private readonly List<ServiceProcess> _all = [];

    private ProcessStack(ProcessStackOptions options)
    {
        _options = options;
        // Pods of one name share their ports, each on an address of its own.
        var shared = (ServiceProcess.FreePort(), ServiceProcess.FreePort());
        _sessionPorts = [.. Enumerable.Range(0, options.Sessions).Select(_ => options.SessionPods is null ? (ServiceProcess.FreePort(), ServiceProcess.FreePort()) : shared)];
        _sessions = [.. Enumerable.Repeat<ServiceProcess?>(null, options.Sessions)];
        _hosts = options.SessionPods is null ? null : new LoopbackHosts();
    }

    /// <summary>The identity service (when it runs).</summary>
    public ServiceProcess Identity { get; private set; } = null!;

    /// <summary>The session replicas, by index (null while one is down and not started again).</summary>
    public IReadOnlyList<ServiceProcess?> Sessions => _sessions;

    /// <summary>The first session replica.</summary>
    public ServiceProcess Session => _sessions[0] ?? throw new InvalidOperationException("Session replica 0 is not running.");

    /// <summary>The certificate service (when it runs; the last one started).</summary>
    public ServiceProcess? Certificate { get; private set; }

    /// <summary>The gateways, in the order of <see cref="ProcessStackOptions.Gateways"/>.</summary>
    public IReadOnlyList<ServiceProcess> Gateways => _gateways;

    /// <summary>The first gateway.</summary>
    public ServiceProcess Gateway => _gateways[0];

    /// <summary>Every process started so far, the dead ones too.</summary>
    public IReadOnlyList<ServiceProcess> AllProcesses
    {
        get { lock (_all) return [.. _all]; }
    }

    /// <summary>Starts everything, waits until every process is ready and every gateway routes to every service.</summary>
    public static async Task<ProcessStack> StartAsync(ProcessStackOptions options)
    {
        var stack = new ProcessStack(options);
        try
        {
            var services = new List<Task>();
            if (options.Identity) services.Add(stack.StartPartAsync(IdentityProject, stack._identityPorts, options.IdentitySettings).ContinueWith(t => stack.Identity = t.Result, TaskScheduler.Default));
            for (var i = 0; i < options.Sessions; i++) services.Add(stack.StartSessionAsync(i));
            if (options.Certificate) services.Add(stack.StartCertificateAsync());
            await Task.WhenAll(services);
            var gateways = await Task.WhenAll(options.Gateways.Select(extra => stack.StartGatewayAsync(extra)));
            stack._gateways.AddRange(gateways);
            await stack.WaitGatewayRoutesAsync();
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts (again) session replica <paramref name="index"/> on its address and ports; it must be down. A pod
    /// (<see cref="ProcessStackOptions.SessionPods"/>) is named once it is ready.
    /// </summary>
    public async Task<ServiceProcess> StartSessionAsync(int index)
    {
        if (_sessions[index] is { HasExited: false }) throw new InvalidOperationException($"Session replica {index} is running.");
        var replica = _sessions[index] = await StartPartAsync(SessionProject, _sessionPorts[index], _options.SessionSettings, SessionHost(index));
        if (_options.SessionPods is { } name) _hosts!.Add(name, SessionHost(index));
        return replica;
    }

    /// <summary>A new session pod (<see cref="ProcessStackOptions.SessionPods"/>) on the next address: started, ready, then named. Returns its index.</summary>
    public async Task<int> AddSessionReplicaAsync()
    {
        if (_options.SessionPods is null) throw new InvalidOperationException("Replicas are added to session pods only (ProcessStackOptions.SessionPods).");
        int index;
        lock (_sessions)
        {
            index = _sessions.Count;
            _sessions.Add(null);
            _sessionPorts.Add(_sessionPorts[0]);
        }
        await StartSessionAsync(index);
        return index;
    }

    /// <summary>
    /// Stops session replica <paramref name="index"/> as Kubernetes stops a pod: its name no longer answers with it,
    /// then SIGTERM (readiness off, streams told to reconnect, a graceful exit). Returns its exit code.
    /// </summary>
    public async Task<int> DrainSessionAsync(int index, TimeSpan timeout)
    {
        var replica = _sessions[index] ?? throw new InvalidOperationException($"Session replica {index} is not running.");
        if (_options.SessionPods is { } name) _hosts!.Remove(name, SessionHost(index));
        return await replica.TerminateAsync(timeout);
    }

    /// <summary>The loopback address of session replica <paramref name="index"/>: 127.0.0.1, or 127.0.0.(2+index) for pods.</summary>
    public IPAddress SessionHost(int index) =>
        _options.SessionPods is null ? IPAddress.Loopback : new IPAddress([127, 0, 0, checked((byte)(2 + index))]);

    /// <summary>Stops session replica <paramref name="index"/> with SIGKILL and starts it again on its ports.</summary>
    public async Task<ServiceProcess> RestartSessionAsync(int index)
    {
        if (_sessions[index] is { } running) await running.KillAsync();
        return await StartSessionAsync(index);
    }

    /// <summary>Starts (again) the certificate service on its ports; it must be down.</summary>
    public async Task<ServiceProcess> StartCertificateAsync()
    {
        if (Certificate is { HasExited: false }) throw new InvalidOperationException("The certificate service is running.");
        return Certificate = await StartPartAsync(CertificateProject, _certificatePorts, _options.CertificateSettings);
    }

    /// <summary>The gRPC address of session replica <paramref name="index"/> (also while it is down).</summary>
    public Uri SessionAddress(int index) => new($"http://{SessionHost(index)}:{_sessionPorts[index].Grpc}");

    /// <summary>A channel through the first gateway (<see cref="TestChannel.ToProcess"/>).</summary>
    public GrpcChannel Channel(string? token) => Gateway.Channel(token);

    /// <summary>The last lines of every process's output, for failure messages.</summary>
    public string Logs(int lastLines = 30) => string.Join("\n", AllProcesses.Select(p =>
        $"--- {p.Name} (pid {p.Pid}{(p.HasExited ? ", exited" : string.Empty)})\n" + string.Join("\n", p.Output.Split('\n').TakeLast(lastLines))));

    /// <summary>Waits until every gateway routes to every service that runs (an answer other than Unavailable means the call reached it).</summary>
    public async Task WaitGatewayRoutesAsync()
    {
        foreach (var gateway in _gateways)
        {
            await WaitRoutesAsync(gateway, _options.Identity, _options.Sessions > 0, _options.Certificate, _options.StartTimeout, Logs);
        }
    }

    /// <summary>
    /// Waits until <paramref name="gateway"/> routes to each service named (an answer other than Unavailable, even
    /// NotFound or Unimplemented, means the call reached a destination).
    /// </summary>
    public static async Task WaitRoutesAsync(ServiceProcess gateway, bool identity, bool session, bool certificate, TimeSpan timeout, Func<int, string>? logs = null)
    {
        using var staff = gateway.Channel(TestTokens.Staff("warmup-staff", "warmup-course"));
        using var learner = gateway.Channel(TestTokens.Learner("warmup-learner"));
        using var anonymous = gateway.Channel(null);
        var probes = new List<(string Service, Func<Task> Call)>();
        if (session) probes.Add(("session", () => new ExamService.ExamServiceClient(staff).GetExamAsync(new GetExamRequest { ExamId = "warmup-exam" }).ResponseAsync));
        if (identity) probes.Add(("identity", () => new IdentityService.IdentityServiceClient(learner).GetLearnerAsync(new GetLearnerRequest { LearnerId = "warmup-learner" }).ResponseAsync));
        if (certificate) probes.Add(("certificate", () => new CertificateVerificationService.CertificateVerificationServiceClient(anonymous).VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = "WARMUP-0000" }).ResponseAsync));
        foreach (var (service, call) in probes)
        {
            await Eventually.Async(() => AnswersAsync(call), () => $"{gateway.Name} (pid {gateway.Pid}) to route to the {service} service\n{logs?.Invoke(30) ?? gateway.Output}",
                timeout, TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>
    /// Waits until every gateway sends calls to session replica <paramref name="index"/> (just started again): calls
    /// through each gateway until the replica's own metrics count one of them.
    /// </summary>
    public async Task WaitSessionRoutedAsync(int index)
    {
        const string Route = "/vigil.session.v1.ExamService/GetExam";
        var replica = _sessions[index] ?? throw new InvalidOperationException($"Session replica {index} is not running.");
        await replica.WaitReadyAsync(_options.StartTimeout);
        foreach (var gateway in _gateways)
        {
            using var staff = gateway.Channel(TestTokens.Staff("warmup-staff", "warmup-course"));
            var exams = new ExamService.ExamServiceClient(staff);
            var before = await replica.RequestCountAsync(Route);
            await Eventually.Async(async () =>
            {
                await AnswersAsync(() => exams.GetExamAsync(new GetExamRequest { ExamId = "warmup-exam" }).ResponseAsync);
                return await replica.RequestCountAsync(Route) > before;
            }, () => $"{gateway.Name} (pid {gateway.Pid}) to send calls to session replica {index} again\n{Logs()}", _options.StartTimeout, TimeSpan.FromMilliseconds(100));
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var p in AllProcesses.Reverse())
        {
            await p.DisposeAsync();
        }
        _hosts?.Dispose();
    }

    private static async Task<bool> AnswersAsync(Func<Task> call)
    {
        try
        {
            await call();
            return true;
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Unavailable)
        {
            return true;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    private Dictionary<string, string?> Common()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = _options.Redis ?? TestEnvironment.Redis,
            ["RabbitMq:Uri"] = _options.RabbitMqUri,
            ["Services:Identity"] = $"http://127.0.0.1:{_identityPorts.Grpc}",
        };
        foreach (var (k, v) in _options.Settings) settings[k] = v;
        return settings;
    }

    private async Task<ServiceProcess> StartPartAsync(string project, (int Grpc, int Http) ports, IReadOnlyDictionary<string, string?> extra, IPAddress? host = null)
    {
        var settings = Common();
        foreach (var (k, v) in extra) settings[k] = v;
        var process = await ServiceProcess.StartAsync(project, settings, ports.Grpc, ports.Http, _options.StartTimeout, host);
        lock (_all) _all.Add(process);
        _options.Started?.Invoke(process);
        await process.WaitReadyAsync(_options.StartTimeout);
        return process;
    }

    private async Task<ServiceProcess> StartGatewayAsync(IReadOnlyDictionary<string, string?> extra)
    {
        var settings = Common();
        // The gateway's clusters in YARP's schema: each replica's gRPC address, probed on its management port (HTTP/1.1).
        foreach (var (k, v) in GatewaySettings.Merge(
            GatewaySettings.Cluster("identity", (Grpc(_identityPorts), Http(_identityPorts))),
            _options.SessionPods is { } pods
                ? GatewaySettings.Cluster("session", (new Uri($"http://{pods}:{_sessionPorts[0].Grpc}"), new Uri($"http://{pods}:{_sessionPorts[0].Http}/")))
                : GatewaySettings.Cluster("session", [.. _sessionPorts.Select(p => (Grpc(p), (Uri?)Http(p)))]),
            GatewaySettings.Cluster("certificate", (Grpc(_certificatePorts), Http(_certificatePorts)))))
        {
            settings[k] = v;
        }
        foreach (var (k, v) in _options.GatewaySettings) settings[k] = v;
        foreach (var (k, v) in extra) settings[k] = v;
        var port = (ServiceProcess.FreePort(), _gateways.Count == 0 && _options.GatewayPagesPort is { } pages ? pages : ServiceProcess.FreePort());
        var process = await ServiceProcess.StartAsync(GatewayProject, settings, port.Item1, port.Item2, _options.StartTimeout, hosts: _hosts);
        lock (_all) _all.Add(process);
        _options.Started?.Invoke(process);
        await process.WaitReadyAsync(_options.StartTimeout);
        return process;
    }

    private static Uri Grpc((int Grpc, int Http) ports) => new($"http://127.0.0.1:{ports.Grpc}");

    private static Uri Http((int Grpc, int Http) ports) => new($"http://127.0.0.1:{ports.Http}/");

    /// <summary>A setting's value for a time span, as configuration binds it ("00:00:02").</summary>
    public static string Span(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}
