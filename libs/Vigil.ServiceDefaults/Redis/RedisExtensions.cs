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
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [HealthTags.Ready], timeout: HealthBudget.Guard);
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
/// Readiness: a primary takes writes now, and acknowledges them. It writes the service's <c>&lt;prefix&gt;readiness</c>
/// key through the one write path (a primary only, its replicas confirming when <c>Redis:AcknowledgeReplicas</c> asks
/// for them): a PING would pass on a replica and on a cluster without a primary for a slot (CLUSTERDOWN). On a Redis
/// Cluster it writes one such key on every primary (<see cref="ReadinessKeys"/>).
/// <list type="bullet">
/// <item>Healthy: every primary took the write and its replicas confirmed it.</item>
/// <item>Degraded (200, still in rotation): some primary took the write but its replicas did not confirm it in time,
/// or some primaries (not all) could not take it. Reads are served; the writes that cannot be acknowledged get
/// UNAVAILABLE with RetryInfo on their own. After a failover the promoted primary has no replica until the old one
/// rejoins (hours, if a node is lost): unready then took every replica of the service out of rotation, the board's
/// reads and the dashboards with it, for what no other replica could do better.</item>
/// <item>Unhealthy: no primary took the write (Redis down or hung, no primary, a replica where the primary was).</item>
/// </list>
/// </summary>
internal sealed class RedisHealthCheck(IServiceProvider services) : IHealthCheck
{
    private static readonly TimeSpan Budget = HealthBudget.PerCheck;

    /// <summary>How late past its budget a check must end to count as starved rather than as waiting for Redis.</summary>
    internal static readonly TimeSpan StarvationMargin = TimeSpan.FromMilliseconds(500);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var started = TimeProvider.System.GetTimestamp();
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
        // The framework's timeout (HealthBudget.Guard, above the budget) is not thrown: a check that ran that late is
        // judged like any other (starved, below).
        var failures = await Task.WhenAll(keys.Select(key => TryWriteAsync(storage, key, budget.Token)));
        return Judge(keys.Count, failures, TimeProvider.System.GetElapsedTime(started));
    }

    /// <summary>
    /// The verdict from each key's write (null: acknowledged) and how long the check took. A check that ran out of
    /// its budget LATE (<see cref="StarvationMargin"/> past it) was itself kept from running: the process is starved
    /// of CPU (a node at full load, a noisy neighbour), and a Redis reply may be sitting unread on its socket. That
    /// says nothing about Redis: it is Degraded (kept in rotation, slower) rather than Unhealthy, which took healthy
    /// replicas out of rotation on a loaded machine all at once. Errors from Redis and a budget that ran out on time
    /// keep their verdict.
    /// </summary>
    internal static HealthCheckResult Judge(int keys, IReadOnlyList<Failure?> failures, TimeSpan took)
    {
        var failed = failures.Where(f => f is not null).Select(f => f!).ToList();
        var ms = took.TotalMilliseconds;
        var unwritten = failed.Count(f => !f.Written);
        if (failed.Count == 0)
        {
            return HealthCheckResult.Healthy(keys == 1
                ? $"write acknowledged in {ms:F1} ms"
                : $"a write acknowledged on each of the {keys} primaries in {ms:F1} ms");
        }
        if (failed.All(f => f.TimedOut) && took > Budget + StarvationMargin)
        {
            return HealthCheckResult.Degraded(
                $"this process is starved of CPU: the check's {Budget.TotalMilliseconds:0} ms budget ran out only after {ms:0} ms, so Redis is not judged by it " +
                "(kept in rotation; writes that cannot be acknowledged get UNAVAILABLE with a retry hint on their own)");
        }
        if (unwritten == keys)
        {
            return HealthCheckResult.Unhealthy(failed[0].Message, failed[0].Exception);
        }
        var what = keys == 1 ? "the primary" : $"{failed.Count} of the {keys} primaries";
        return HealthCheckResult.Degraded(
            $"{what} cannot take an acknowledged write (their keys' writes get UNAVAILABLE with a retry hint; reads are served): {failed[0].Message}",
            failed[0].Exception);
    }

    private static async Task<Failure?> TryWriteAsync(RedisStorage storage, RedisKey key, CancellationToken budget)
    {
        // Set once the primary replied: what is left is its replicas' confirmation.
        var written = false;
        try
        {
            await storage.WriteAsync(key, async (db, k) =>
                {
                    var set = await db.StringSetAsync(k, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), TimeSpan.FromMinutes(10), When.Always, CommandFlags.DemandMaster);
                    Volatile.Write(ref written, true);
                    return set;
                })
                .WaitAsync(budget);
            return null;
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            return Volatile.Read(ref written)
                ? new Failure($"a primary took a write, but its replicas did not confirm it within {Budget.TotalMilliseconds:0} ms", null, Written: true, TimedOut: true)
                : new Failure($"Redis did not take a write within {Budget.TotalMilliseconds:0} ms", null, Written: false, TimedOut: true);
        }
        catch (StoreNotAcknowledgedException ex)
        {
            return new Failure(ex.Message, ex, Written: true);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return new Failure("Redis cannot take a write: " + ex.Message.Split('\n')[0], ex, Written: false);
        }
    }

    /// <param name="Written">The primary took the write (only its replicas did not confirm it).</param>
    /// <param name="TimedOut">The check's budget ran out (no error from Redis).</param>
    internal sealed record Failure(string Message, Exception? Exception, bool Written, bool TimedOut = false);
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
