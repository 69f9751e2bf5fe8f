using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Vigil.Identity.Storage;
using Vigil.Contracts.Identity.V1;
using Vigil.Testing;

namespace Vigil.Identity.Tests.Infrastructure;

/// <summary>One in-process identity service against the real Redis, shared by the service tests (one collection).</summary>
public sealed class IdentityFixture : IAsyncLifetime
{
    public VigilServiceFactory<IdentityApp> Factory { get; } = new VigilServiceFactory<IdentityApp>("identity")
        .With("Photos:Retention", "7.00:00:00");

    public IConnectionMultiplexer Redis { get; private set; } = null!;

    /// <summary>The service's own key layout (tests never spell a key).</summary>
    internal IdentityKeys Keys => Factory.Services.GetRequiredService<IdentityKeys>();

    private readonly List<GrpcChannel> _channels = [];

    public IdentityService.IdentityServiceClient Client(string token)
    {
        var channel = Factory.Channel(token);
        lock (_channels) _channels.Add(channel);
        return new IdentityService.IdentityServiceClient(channel);
    }

    public IdentityService.IdentityServiceClient Learner(string learnerId) => Client(TestTokens.Learner(learnerId));

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    /// <summary>A new mailbox of the "uni.fr" domain.</summary>
    public static string Mailbox(string name) => $"{name}.{Guid.NewGuid():N}@uni.fr";

    /// <summary>A registration request with a new request id unless given.</summary>
    public static RegisterLearnerRequest Register(string email, string name = "Jane Doe", string? requestId = null) =>
        new() { RequestId = requestId ?? Guid.NewGuid().ToString("N"), Email = email, DisplayName = name };

    /// <summary>The suite's RabbitMQ virtual host (the service consumes erasure requests and board decisions there).</summary>
    public static string AmqpUri => TestEnvironment.RabbitMq("identity");

    public async Task InitializeAsync()
    {
        Redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        // Ready = Redis reachable and the bus (its receive endpoints, so their queues are bound) started.
        using var http = Factory.CreateClient();
        await Eventually.Async(async () =>
        {
            using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
            return response.IsSuccessStatusCode;
        }, "the identity service to get ready");
    }

    public async Task DisposeAsync()
    {
        foreach (var c in _channels) c.Dispose();
        await Factory.DisposeAsync();
        await Redis.DisposeAsync();
    }

    /// <summary>Every key Redis holds for a learner (hash tag {learnerId}).</summary>
    public async Task<List<string>> KeysOf(string learnerId)
    {
        // They share one slot: the primary that serves it has them all (every node of a Redis Cluster, replicas
        // included, would list them more than once).
        var keys = new List<string>();
        await foreach (var key in Redis.GetServer(Keys.Of(learnerId).Key).KeysAsync(pattern: Keys.Of(learnerId).Root + "*"))
        {
            keys.Add(key.ToString());
        }
        return keys;
    }
}

[CollectionDefinition(Name)]
public sealed class IdentityCollection : ICollectionFixture<IdentityFixture>
{
    public const string Name = "identity";
}
