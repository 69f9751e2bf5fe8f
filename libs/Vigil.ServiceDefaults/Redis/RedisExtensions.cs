using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Health;
using Vigil.ServiceDefaults.Hosting;
using Vigil.ServiceDefaults.Storage;

namespace Vigil.ServiceDefaults.Redis;

/// <summary>One multiplexer per process for reads (and one for writes when they wait for replicas).</summary>
public static class RedisExtensions
{
    /// <summary>
    /// Adds the Redis multiplexer, its readiness check and the storage boundary (<see cref="RedisKeyspace"/> with the
    /// service's <c>Redis:KeyPrefix</c>, <paramref name="defaultKeyPrefix"/> unless configured; <see cref="RedisWrites"/>
    /// and <see cref="RedisStorage"/>).
    /// </summary>
    public static IHostApplicationBuilder AddVigilRedis(this IHostApplicationBuilder builder, string defaultKeyPrefix)
    {
        // The service's default first: the "Redis" section binds over it.
        builder.Services.Configure<RedisOptions>(o => o.KeyPrefix = defaultKeyPrefix);
        builder.Services.AddValidatedOptions<RedisOptions>(RedisOptions.Section);
        builder.Services.AddSingleton<RedisKeyspace>();
        builder.Services.AddSingleton<RedisStorage>();
        var name = builder.Environment.ApplicationName;
        builder.Services.AddSingleton<IConnectionMultiplexer>(sp => Connect(sp.GetRequiredService<IOptions<RedisOptions>>().Value, name, writes: false));
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisOptions>>().Value;
            var reads = sp.GetRequiredService<IConnectionMultiplexer>();
            return options.AcknowledgeReplicas == 0
                ? RedisWrites.PrimaryOnly(reads)
                : RedisWrites.WaitingForReplicas(Connect(options, name, writes: true), options.AcknowledgeReplicas, options.AcknowledgeTimeout, reads);
        });
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [HealthTags.Ready], timeout: HealthBudget.PerCheck);
        return builder;
    }

    private static ConnectionMultiplexer Connect(RedisOptions redis, string applicationName, bool writes)
    {
        var options = ConfigurationOptions.Parse(redis.Configuration);
        // Start even while Redis is down: liveness must not depend on it; readiness reports it.
        options.AbortOnConnectFail = false;
        options.ClientName ??= applicationName;
        if (writes)
        {
            options.ClientName += ":writes";
            // A WAIT may hold its reply for the whole acknowledgement timeout: the client must wait longer than that.
            var floor = (int)(redis.AcknowledgeTimeout + TimeSpan.FromSeconds(2)).TotalMilliseconds;
            options.AsyncTimeout = Math.Max(options.AsyncTimeout, floor);
            options.SyncTimeout = Math.Max(options.SyncTimeout, floor);
        }
        return ConnectionMultiplexer.Connect(options);
    }
}

/// <summary>
/// Readiness: a write can be acknowledged now. It writes the service's <c>&lt;prefix&gt;readiness</c> key through the one
/// write path (a primary only, its replicas confirming when <c>Redis:AcknowledgeReplicas</c> asks for them): a PING
/// would pass on a replica, on a cluster without a primary for a slot (CLUSTERDOWN) and on a primary whose replicas
/// are gone, none of which can take an acknowledged write. On a Redis Cluster it writes one such key on every primary
/// (<see cref="ReadinessKeys"/>): Healthy when every shard acknowledged, Degraded (still in rotation) when only some
/// did, Unhealthy when none did. One key on one shard made every replica of a service unready whenever that shard
/// alone had lost its replica, taking the whole service out of rotation for what a third of its sessions suffered
/// (and those get UNAVAILABLE with RetryInfo on their own writes anyway).
/// </summary>
internal sealed class RedisHealthCheck(IServiceProvider services) : IHealthCheck
{
    private static readonly TimeSpan Budget = HealthBudget.PerCheck;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(Budget);
        IReadOnlyList<RedisKey> keys;
        RedisStorage storage;
        try
        {
            // The multiplexers are made on first use, and connecting blocks while Redis hangs: off the probe's path.
            storage = await Task.Run(services.GetRequiredService<RedisStorage>, budget.Token).WaitAsync(budget.Token);
            var redis = services.GetRequiredService<IConnectionMultiplexer>();
            keys = ReadinessKeys.For(redis, storage.Keys.Global("readiness"));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"Redis did not acknowledge a write within {Budget.TotalMilliseconds:0} ms");
        }
        var started = TimeProvider.System.GetTimestamp();
        var failures = await Task.WhenAll(keys.Select(key => TryWriteAsync(storage, key, budget.Token)));
        cancellationToken.ThrowIfCancellationRequested();
        var failed = failures.Where(f => f is not null).Select(f => f!).ToList();
        var took = TimeProvider.System.GetElapsedTime(started).TotalMilliseconds;
        if (failed.Count == 0)
        {
            return HealthCheckResult.Healthy(keys.Count == 1
                ? $"write acknowledged in {took:F1} ms"
                : $"a write acknowledged on each of the {keys.Count} primaries in {took:F1} ms");
        }
        if (failed.Count < keys.Count)
        {
            return HealthCheckResult.Degraded(
                $"{failed.Count} of the {keys.Count} primaries cannot take an acknowledged write (their keys' calls get UNAVAILABLE): {failed[0].Message}",
                failed[0].Exception);
        }
        return HealthCheckResult.Unhealthy(failed[0].Message, failed[0].Exception);
    }

    private static async Task<Failure?> TryWriteAsync(RedisStorage storage, RedisKey key, CancellationToken budget)
    {
        try
        {
            await storage.WriteAsync(key, (db, k) =>
                db.StringSetAsync(k, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), TimeSpan.FromMinutes(10), When.Always, CommandFlags.DemandMaster))
                .WaitAsync(budget);
            return null;
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            return new Failure($"Redis did not acknowledge a write within {Budget.TotalMilliseconds:0} ms", null);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return new Failure("Redis cannot take an acknowledged write: " + ex.Message.Split('\n')[0], ex);
        }
    }

    private sealed record Failure(string Message, Exception? Exception);
}

/// <summary>
/// The readiness keys: the one <c>&lt;prefix&gt;readiness</c> key on a standalone server or under Sentinel; on a Redis
/// Cluster one key per primary that serves slots, <c>&lt;prefix&gt;readiness{r&lt;n&gt;}</c> with the first n whose slot
/// that primary serves (read from the multiplexer's view of the cluster, so a resharding or a failover moves them).
/// </summary>
internal static class ReadinessKeys
{
    /// <summary>Tags tried per primary before giving up on it (a primary serving one slot needs about 16,384).</summary>
    private const int MaxTries = 200_000;

    public static IReadOnlyList<RedisKey> For(IConnectionMultiplexer redis, RedisKey readiness)
    {
        var primaries = ClusterPrimaries(redis);
        if (primaries is null) return [readiness];
        var keys = new List<RedisKey>();
        foreach (var slots in primaries)
        {
            for (var n = 0; n < MaxTries; n++)
            {
                var key = readiness.Append("{r" + n.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}");
                var slot = redis.HashSlot(key);
                if (slots.Any(range => range.From <= slot && slot <= range.To))
                {
                    keys.Add(key);
                    break;
                }
            }
        }
        return keys.Count > 0 ? keys : [readiness];
    }

    /// <summary>The slot ranges of each primary, from the first connected cluster node's view; null when not a cluster.</summary>
    private static List<IList<SlotRange>>? ClusterPrimaries(IConnectionMultiplexer redis)
    {
        foreach (var server in redis.GetServers())
        {
            if (server.ServerType != ServerType.Cluster || !server.IsConnected) continue;
            if (server.ClusterConfiguration is not { } cluster) continue;
            var primaries = cluster.Nodes.Where(n => !n.IsReplica && n.Slots.Count > 0).Select(n => n.Slots).ToList();
            if (primaries.Count > 0) return primaries;
        }
        return null;
    }
}
