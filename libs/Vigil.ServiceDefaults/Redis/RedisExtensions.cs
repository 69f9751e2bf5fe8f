using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Health;
using Vigil.ServiceDefaults.Storage;

namespace Vigil.ServiceDefaults.Redis;

/// <summary>Redis connection options, bound from the "Redis" section.</summary>
public sealed class RedisOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Redis";

    /// <summary>
    /// A StackExchange.Redis configuration string: one server ("127.0.0.1:6379", "redis:6379,password=…"), the nodes of
    /// a Redis Cluster ("node-a:6379,node-b:6379,…": the rest is discovered), or Sentinel
    /// ("sentinel-a:26379,sentinel-b:26379,serviceName=vigil": the multiplexer follows the primary Sentinel names).
    /// </summary>
    [Required]
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>
    /// The prefix of every key and channel of the service (<see cref="RedisKeyspace"/>); each service has its own
    /// default (<c>vigil:identity:</c>, <c>vigil:session:</c>, <c>vigil:certificate:</c>), tests their own.
    /// </summary>
    public string KeyPrefix { get; set; } = string.Empty;

    /// <summary>
    /// How many replicas must confirm a write before Vigil acknowledges it (<c>WAIT</c>, see <see cref="RedisWrites"/>).
    /// 0 (the default) for one standalone server: the primary's reply, on disk, is the acknowledgement. Set it to 1
    /// (or more) wherever Redis has replicas, so that a failover cannot lose an acknowledged write.
    /// </summary>
    [Range(0, 16)]
    public int AcknowledgeReplicas { get; set; }

    /// <summary>
    /// How long a write waits for <see cref="AcknowledgeReplicas"/> replicas (10 ms to 30 s; 1 s by default). Past it
    /// the write is refused as not acknowledged (the client gets UNAVAILABLE and retries), never acknowledged.
    /// </summary>
    public TimeSpan AcknowledgeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>What <see cref="KeyPrefix"/> may be.</summary>
    public const string KeyPrefixRule =
        "Redis:KeyPrefix is 1-64 characters among letters, digits, ':', '-', '_' and '.' (no braces: a brace would pick the hash tag of every key).";

    /// <summary>What <see cref="AcknowledgeTimeout"/> may be.</summary>
    public const string AcknowledgeTimeoutRule = "Redis:AcknowledgeTimeout is between 00:00:00.010 and 00:00:30.";

    /// <summary>Whether a key prefix follows <see cref="KeyPrefixRule"/>.</summary>
    public static bool IsValidKeyPrefix(string? prefix) =>
        prefix is { Length: > 0 and <= 64 } && prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '-' or '_' or '.');

    /// <summary>Whether <see cref="AcknowledgeTimeout"/> follows <see cref="AcknowledgeTimeoutRule"/>.</summary>
    public bool HasValidAcknowledgeTimeout() =>
        AcknowledgeTimeout >= TimeSpan.FromMilliseconds(10) && AcknowledgeTimeout <= TimeSpan.FromSeconds(30);
}

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
        builder.Services.AddOptions<RedisOptions>()
            .Configure(o => o.KeyPrefix = defaultKeyPrefix)
            .Bind(builder.Configuration.GetSection(RedisOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => RedisOptions.IsValidKeyPrefix(o.KeyPrefix), RedisOptions.KeyPrefixRule)
            .Validate(o => o.HasValidAcknowledgeTimeout(), RedisOptions.AcknowledgeTimeoutRule)
            .ValidateOnStart();
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
