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

    /// <summary>A StackExchange.Redis configuration string, e.g. "127.0.0.1:6379" or "redis:6379,password=…".</summary>
    [Required]
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>
    /// The prefix of every key and channel of the service (<see cref="RedisKeyspace"/>); each service has its own
    /// default (<c>vigil:identity:</c>, <c>vigil:session:</c>, <c>vigil:certificate:</c>), tests their own.
    /// </summary>
    public string KeyPrefix { get; set; } = string.Empty;

    /// <summary>What <see cref="KeyPrefix"/> may be.</summary>
    public const string KeyPrefixRule =
        "Redis:KeyPrefix is 1-64 characters among letters, digits, ':', '-', '_' and '.' (no braces: a brace would pick the hash tag of every key).";

    /// <summary>Whether a key prefix follows <see cref="KeyPrefixRule"/>.</summary>
    public static bool IsValidKeyPrefix(string? prefix) =>
        prefix is { Length: > 0 and <= 64 } && prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '-' or '_' or '.');
}

/// <summary>One multiplexer per process, shared by everything in it.</summary>
public static class RedisExtensions
{
    /// <summary>
    /// Adds the Redis multiplexer, its readiness check and the storage boundary (<see cref="RedisKeyspace"/> with the
    /// service's <c>Redis:KeyPrefix</c>, <paramref name="defaultKeyPrefix"/> unless configured; <see cref="RedisStorage"/>).
    /// </summary>
    public static IHostApplicationBuilder AddVigilRedis(this IHostApplicationBuilder builder, string defaultKeyPrefix)
    {
        builder.Services.AddOptions<RedisOptions>()
            .Configure(o => o.KeyPrefix = defaultKeyPrefix)
            .Bind(builder.Configuration.GetSection(RedisOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => RedisOptions.IsValidKeyPrefix(o.KeyPrefix), RedisOptions.KeyPrefixRule)
            .ValidateOnStart();
        builder.Services.AddSingleton<RedisKeyspace>();
        builder.Services.AddSingleton<RedisStorage>();
        builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var options = ConfigurationOptions.Parse(sp.GetRequiredService<IOptions<RedisOptions>>().Value.Configuration);
            // Start even while Redis is down: liveness must not depend on it; readiness reports it.
            options.AbortOnConnectFail = false;
            options.ClientName ??= builder.Environment.ApplicationName;
            return ConnectionMultiplexer.Connect(options);
        });
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [HealthTags.Ready]);
        return builder;
    }
}

internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"ping {latency.TotalMilliseconds:F1} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("Redis unreachable", ex);
        }
    }
}
