using System.Globalization;
using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Net.Client;
using Vigil.Testing;

namespace Vigil.Faults.Tests.Infrastructure;

/// <summary>
/// Vigil as real processes for the fault tests: identity, two session instances (fixed ports, so a stopped one
/// comes back at the same address), certificate, and the gateway in front with the two session instances as
/// replicas. Every service uses the suite's OWN redis-server (<see cref="Redis"/>) and reaches the shared RabbitMQ
/// ("faults" virtual host) through <see cref="Broker"/>, a relay the tests can cut. Processes that were killed are
/// kept so the log checks see everything any of them printed.
/// </summary>
public sealed class FaultStack : IAsyncLifetime
{
    /// <summary>
    /// How long a process may take to become ready. Generous: on a shared 2-core machine under load the message
    /// bus alone has taken over a minute to start.
    /// </summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    /// <summary>The second gateway's activity timeout: short, so a test can idle a stream past it.</summary>
    public static readonly TimeSpan ShortGatewayActivityTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The photo encryption key of this run (the log checks look for it).</summary>
    public string PhotoKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private readonly List<ServiceProcess> _all = [];
    private readonly (int Grpc, int Http)[] _sessionPorts = [(ServiceProcess.FreePort(), ServiceProcess.FreePort()), (ServiceProcess.FreePort(), ServiceProcess.FreePort())];
    private readonly (int Grpc, int Http) _certificatePorts = (ServiceProcess.FreePort(), ServiceProcess.FreePort());
    private Dictionary<string, string?> _common = [];

    public OwnRedis Redis { get; private set; } = null!;
    public TcpCut Broker { get; private set; } = null!;
    public string AmqpUri { get; private set; } = string.Empty;
    public ServiceProcess Identity { get; private set; } = null!;
    public ServiceProcess?[] Sessions { get; } = new ServiceProcess?[2];
    public ServiceProcess? Certificate { get; private set; }
    public ServiceProcess Gateway { get; private set; } = null!;

    /// <summary>A second gateway like the first but with an activity timeout of <see cref="ShortGatewayActivityTimeout"/>.</summary>
    public ServiceProcess ShortTimeoutGateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Redis = await OwnRedis.StartAsync();
        (Broker, AmqpUri) = TcpCut.ForAmqp(TestEnvironment.RabbitMq("faults"));
        var identityPorts = (Grpc: ServiceProcess.FreePort(), Http: ServiceProcess.FreePort());
        _common = new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = Redis.Address,
            ["RabbitMq:Uri"] = AmqpUri,
            ["Auth:Issuer"] = TestTokens.Issuer,
            ["Auth:Audience"] = TestTokens.Audience,
            ["Hosting:DrainDelay"] = "00:00:00.300",
            ["Services:Identity"] = $"http://127.0.0.1:{identityPorts.Grpc}",
            ["Services:Session"] = string.Join(",", _sessionPorts.Select(p => $"http://127.0.0.1:{p.Grpc}")),
            ["Services:Certificate"] = $"http://127.0.0.1:{_certificatePorts.Grpc}",
            ["Photos:EncryptionKeys:0:KeyId"] = "faults",
            ["Photos:EncryptionKeys:0:Key"] = PhotoKey,
            ["Photos:ActiveKeyId"] = "faults",
        };
        var starts = new List<Task>
        {
            Start("services/identity/Vigil.Identity", identityPorts).ContinueWith(t => Identity = t.Result, TaskScheduler.Default),
            StartCertificateAsync(),
        };
        for (var i = 0; i < Sessions.Length; i++) starts.Add(StartSessionAsync(i));
        await Task.WhenAll(starts);
        var gateway = GatewaySettings.Merge(
            _common,
            GatewaySettings.Cluster("identity", (Identity.GrpcAddress, Identity.HttpAddress)),
            GatewaySettings.Cluster("session", [.. _sessionPorts.Select(p => (new Uri($"http://127.0.0.1:{p.Grpc}"), (Uri?)new Uri($"http://127.0.0.1:{p.Http}/")))]),
            GatewaySettings.Cluster("certificate", (new Uri($"http://127.0.0.1:{_certificatePorts.Grpc}"), new Uri($"http://127.0.0.1:{_certificatePorts.Http}/"))),
            GatewaySettings.HealthChecks(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)),
            new Dictionary<string, string?>
            {
                ["Gateway:PhotoUploadsPerWindow"] = "1000",
                ["Gateway:SessionStartsPerWindow"] = "1000",
            });
        var shortTimeout = GatewaySettings.Merge(
            gateway,
            GatewaySettings.EveryCluster("HttpRequest:ActivityTimeout", ShortGatewayActivityTimeout.ToString("c", CultureInfo.InvariantCulture)));
        var gateways = await Task.WhenAll(ServiceProcess.StartAsync("gateway/Vigil.Gateway", gateway, timeout: Patience), ServiceProcess.StartAsync("gateway/Vigil.Gateway", shortTimeout, timeout: Patience));
        (Gateway, ShortTimeoutGateway) = (gateways[0], gateways[1]);
        lock (_all) _all.AddRange(gateways);
        await Task.WhenAll(Gateway.WaitReadyAsync(Patience), ShortTimeoutGateway.WaitReadyAsync(Patience));
        await WaitGatewayRoutesAsync();
    }

    private async Task<ServiceProcess> Start(string project, (int Grpc, int Http) ports, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>(_common);
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) settings[k] = v;
        var process = await ServiceProcess.StartAsync(project, settings, ports.Grpc, ports.Http, Patience);
        lock (_all) _all.Add(process);
        await process.WaitReadyAsync(Patience);
        return process;
    }

    /// <summary>Starts (or restarts) session instance <paramref name="index"/> on its fixed ports.</summary>
    public async Task StartSessionAsync(int index) =>
        Sessions[index] = await Start("services/session/Vigil.Session", _sessionPorts[index]);

    /// <summary>Starts (or restarts) the certificate service on its fixed ports.</summary>
    public async Task StartCertificateAsync() =>
        Certificate = await Start("services/certificate/Vigil.Certificate", _certificatePorts);

    /// <summary>
    /// Brings back whatever an earlier (possibly failed) test left down: the broker relay, redis-server, session
    /// instances, the certificate service. Every test starts with it, so one failure does not cascade.
    /// </summary>
    public async Task HealAsync()
    {
        Broker.Restore();
        var healed = false;
        if (!Redis.Running)
        {
            await Redis.RestartAsync();
            healed = true;
        }
        for (var i = 0; i < Sessions.Length; i++)
        {
            if (Sessions[i] is { HasExited: false }) continue;
            await StartSessionAsync(i);
            healed = true;
        }
        if (Certificate is not { HasExited: false })
        {
            await StartCertificateAsync();
            healed = true;
        }
        if (healed) Console.WriteLine("[faults] healed the stack left down by an earlier test");
        await WaitGatewayRoutesAsync();
    }

    /// <summary>The gRPC address of session instance <paramref name="index"/> (also when it is down).</summary>
    public Uri SessionAddress(int index) => new($"http://127.0.0.1:{_sessionPorts[index].Grpc}");

    /// <summary>A channel through the gateway (no token when null).</summary>
    public GrpcChannel Channel(string? token) => Channel(Gateway.GrpcAddress, token);

    /// <summary>A channel straight to one process.</summary>
    public static GrpcChannel Channel(Uri address, string? token)
    {
        return TestChannel.Create(address, token, new GrpcChannelOptions { MaxReceiveMessageSize = 16 * 1024 * 1024, MaxRetryAttempts = 0 });
    }

    /// <summary>Every process started so far, the dead ones too.</summary>
    public IReadOnlyList<ServiceProcess> AllProcesses { get { lock (_all) return [.. _all]; } }

    /// <summary>The last lines of every process's output, for failure messages.</summary>
    public string Logs(int lastLines = 30) => string.Join("\n", AllProcesses.Select(p =>
        $"--- {p.Name} (pid {p.Pid}{(p.HasExited ? ", exited" : string.Empty)})\n" + string.Join("\n", p.Output.Split('\n').TakeLast(lastLines))));

    /// <summary>Waits until the gateway routes to every service (a NotFound means the call reached it).</summary>
    public async Task WaitGatewayRoutesAsync()
    {
        using var staff = Channel(TestTokens.Staff("warmup-staff", "warmup-course"));
        using var learner = Channel(TestTokens.Learner("warmup-learner"));
        using var anonymous = Channel(null);
        var probes = new Func<Task>[]
        {
            () => new Vigil.Contracts.Session.V1.ExamService.ExamServiceClient(staff).GetExamAsync(new() { ExamId = "warmup-exam" }).ResponseAsync,
            () => new Vigil.Contracts.Identity.V1.IdentityService.IdentityServiceClient(learner).GetLearnerAsync(new() { LearnerId = "warmup-learner" }).ResponseAsync,
            () => new Vigil.Contracts.Certificate.V1.CertificateVerificationService.CertificateVerificationServiceClient(anonymous).VerifyCertificateAsync(new() { VerificationCode = "WARMUP-0000" }).ResponseAsync,
        };
        foreach (var probe in probes)
        {
            var until = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try
                {
                    await probe();
                    break;
                }
                catch (RpcException ex) when (ex.StatusCode != StatusCode.Unavailable)
                {
                    break;
                }
                catch (RpcException) when (DateTime.UtcNow < until)
                {
                    await Task.Delay(200);
                }
            }
        }
    }

    /// <summary>Waits until the gateway routes to session instance <paramref name="index"/> again (its readiness probe passed).</summary>
    public async Task WaitSessionRoutedAsync(int index)
    {
        await Sessions[index]!.WaitReadyAsync(Patience);
        // Two probe intervals: the gateway sees it ready.
        await Task.Delay(1200);
    }

    public async Task DisposeAsync()
    {
        // The last word on logs: everything every process printed during the whole suite, dead ones included.
        var leaks = Hostile.LogHygieneTests.Leaks(this, []);
        Console.WriteLine($"[faults] log hygiene over the whole suite: processes: {AllProcesses.Count}, log lines: {AllProcesses.Sum(p => p.Output.Split('\n').Length)}, leaks: {leaks.Count}");
        // Every process's whole output, for a failed run's post-mortem.
        var dump = Path.Combine(Path.GetTempPath(), "vigil-faults-last-run");
        if (Directory.Exists(dump)) Directory.Delete(dump, recursive: true);
        Directory.CreateDirectory(dump);
        foreach (var p in AllProcesses) await File.WriteAllTextAsync(Path.Combine(dump, $"{p.Name}-{p.Pid}.log"), p.Output);
        Console.WriteLine($"[faults] process logs written to {dump}");
        foreach (var p in AllProcesses) await p.DisposeAsync();
        await Broker.DisposeAsync();
        await Redis.DisposeAsync();
        if (leaks.Count > 0) throw new InvalidOperationException("Secrets in the logs:\n" + string.Join("\n", leaks.Take(10)));
    }
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultStack>
{
    public const string Name = "faults";
}
