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
/// are gone, none of which can take an acknowledged write.
/// </summary>
internal sealed class RedisHealthCheck(IServiceProvider services) : IHealthCheck
{
    private static readonly TimeSpan Budget = HealthBudget.PerCheck;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(Budget);
        try
        {
            // The multiplexers are made on first use, and connecting blocks while Redis hangs: off the probe's path.
            var storage = await Task.Run(services.GetRequiredService<RedisStorage>, budget.Token).WaitAsync(budget.Token);
            var started = TimeProvider.System.GetTimestamp();
            await storage.WriteAsync(storage.Keys.Global("readiness"), (db, key) =>
                db.StringSetAsync(key, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), TimeSpan.FromMinutes(10), When.Always, CommandFlags.DemandMaster))
                .WaitAsync(budget.Token);
            return HealthCheckResult.Healthy($"write acknowledged in {TimeProvider.System.GetElapsedTime(started).TotalMilliseconds:F1} ms");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"Redis did not acknowledge a write within {Budget.TotalMilliseconds:0} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("Redis cannot take an acknowledged write: " + ex.Message.Split('\n')[0], ex);
        }
    }
}
