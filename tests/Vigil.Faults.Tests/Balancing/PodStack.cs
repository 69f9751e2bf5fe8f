using Vigil.Testing;

namespace Vigil.Faults.Tests.Balancing;

/// <summary>
/// Vigil as real processes with the session service as pods behind one name, as on Kubernetes: three session
/// replicas on 127.0.0.2, .3 and .4 (same ports), the name <see cref="Name"/> answering with each ready one
/// through the gateway's own hosts file (<see cref="LoopbackHosts"/>: the gateway resolves it with the system
/// resolver, as it resolves a headless Service), identity, certificate and one gateway whose session cluster is
/// <c>http://session-pods:port</c>, resolved again every <see cref="RefreshInterval"/>.
/// </summary>
public sealed class PodStack : IAsyncLifetime
{
    /// <summary>The name the session replicas answer to, like the headless Service <c>session-pods</c>.</summary>
    public const string Name = "session-pods";

    /// <summary>How often the gateway resolves the name again (5 s in production; shorter here, the test waits for it).</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    public ProcessStack Stack { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Stack = await ProcessStack.StartAsync(new ProcessStackOptions
        {
            RabbitMqUri = TestEnvironment.RabbitMq("pods"),
            Sessions = 3,
            SessionPods = Name,
            // A replica told to stop says "reconnect" to its streams 2 s after its readiness went off (as in compose):
            // by then the gateway has seen it unready and its name no longer answers with it.
            SessionSettings = new Dictionary<string, string?> { ["Hosting:DrainDelay"] = "00:00:02" },
            GatewaySettings = GatewaySettings.Merge(
                GatewaySettings.HealthChecks(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)),
                new Dictionary<string, string?>
                {
                    ["Gateway:DestinationRefreshInterval"] = ProcessStack.Span(RefreshInterval),
                    // A few hundred learners sign in from one address.
                    ["Gateway:PhotoUploadsPerWindow"] = "100000",
                    ["Gateway:SessionStartsPerWindow"] = "100000",
                }),
        });
    }

    public async Task DisposeAsync()
    {
        if (Stack is not null) await Stack.DisposeAsync();
    }
}

/// <summary>The pod tests run alone: they count what each replica holds, and their stack is CPU-heavy.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PodCollection : ICollectionFixture<PodStack>
{
    public const string Name = "pods";
}
