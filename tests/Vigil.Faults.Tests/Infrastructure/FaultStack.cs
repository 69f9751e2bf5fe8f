using System.Security.Cryptography;
using Grpc.Net.Client;
using Vigil.Testing;

namespace Vigil.Faults.Tests.Infrastructure;

/// <summary>
/// Vigil as real processes for the fault tests (the kit's <see cref="ProcessStack"/>): identity, two session
/// replicas (fixed ports, so a stopped one comes back at the same address), certificate, and two gateways in front
/// (the second with a short activity timeout). Every service uses the suite's OWN redis-server (<see cref="Redis"/>)
/// and reaches the shared RabbitMQ ("faults" virtual host) through <see cref="Broker"/>, a relay the tests can cut.
/// Processes that were killed are kept so the log checks see everything any of them printed.
/// </summary>
public sealed class FaultStack : IAsyncLifetime, IGrpcEndpoint
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

    public OwnRedis Redis { get; private set; } = null!;

    public TcpCut Broker { get; private set; } = null!;

    public ProcessStack Processes { get; private set; } = null!;

    public ServiceProcess Identity => Processes.Identity;

    public IReadOnlyList<ServiceProcess?> Sessions => Processes.Sessions;

    public ServiceProcess? Certificate => Processes.Certificate;

    public ServiceProcess Gateway => Processes.Gateways[0];

    /// <summary>A second gateway like the first but with an activity timeout of <see cref="ShortGatewayActivityTimeout"/>.</summary>
    public ServiceProcess ShortTimeoutGateway => Processes.Gateways[1];

    /// <summary>Every process started so far, the dead ones too.</summary>
    public IReadOnlyList<ServiceProcess> AllProcesses => Processes?.AllProcesses ?? [];

    public async Task InitializeAsync()
    {
        Redis = await OwnRedis.StartAsync();
        string amqpUri;
        (Broker, amqpUri) = TcpCut.ForAmqp(TestEnvironment.RabbitMq("faults"));
        Processes = await ProcessStack.StartAsync(new ProcessStackOptions
        {
            Redis = Redis.Address,
            RabbitMqUri = amqpUri,
            Sessions = 2,
            StartTimeout = Patience,
            Settings = new Dictionary<string, string?>
            {
                ["Hosting:DrainDelay"] = "00:00:00.300",
                ["Photos:EncryptionKeys:0:KeyId"] = "faults",
                ["Photos:EncryptionKeys:0:Key"] = PhotoKey,
                ["Photos:ActiveKeyId"] = "faults",
            },
            GatewaySettings = GatewaySettings.Merge(
                GatewaySettings.HealthChecks(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)),
                new Dictionary<string, string?>
                {
                    ["Gateway:PhotoUploadsPerWindow"] = "1000",
                    ["Gateway:SessionStartsPerWindow"] = "1000",
                }),
            Gateways =
            [
                new Dictionary<string, string?>(),
                GatewaySettings.EveryCluster("HttpRequest:ActivityTimeout", ProcessStack.Span(ShortGatewayActivityTimeout)),
            ],
        });
    }

    /// <summary>Starts (or restarts) session replica <paramref name="index"/> on its fixed ports.</summary>
    public Task StartSessionAsync(int index) => Processes.StartSessionAsync(index);

    /// <summary>Starts (or restarts) the certificate service on its fixed ports.</summary>
    public Task StartCertificateAsync() => Processes.StartCertificateAsync();

    /// <summary>Waits until the gateways send calls to session replica <paramref name="index"/> again.</summary>
    public Task WaitSessionRoutedAsync(int index) => Processes.WaitSessionRoutedAsync(index);

    /// <summary>
    /// Brings back whatever an earlier (possibly failed) test left down: the broker relay, redis-server, session
    /// replicas, the certificate service. Every test starts with it, so one failure does not cascade.
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
        for (var i = 0; i < Sessions.Count; i++)
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
        await Processes.WaitGatewayRoutesAsync();
    }

    /// <summary>The gRPC address of session replica <paramref name="index"/> (also when it is down).</summary>
    public Uri SessionAddress(int index) => Processes.SessionAddress(index);

    /// <summary>A channel through the gateway (no token when null).</summary>
    public GrpcChannel Channel(string? token) => Processes.Channel(token);

    /// <summary>The last lines of every process's output, for failure messages.</summary>
    public string Logs(int lastLines = 30) => Processes.Logs(lastLines);

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
        if (Processes is not null) await Processes.DisposeAsync();
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
