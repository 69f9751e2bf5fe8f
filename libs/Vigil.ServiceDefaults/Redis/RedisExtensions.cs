using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Health;

namespace Vigil.ServiceDefaults.Redis;

/// <summary>Redis connection options, bound from the "Redis" section.</summary>
public sealed class RedisOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Redis";

    /// <summary>A StackExchange.Redis configuration string, e.g. "127.0.0.1:6379" or "redis:6379,password=…".</summary>
    [Required]
    public string Configuration { get; set; } = "127.0.0.1:6379";
}

/// <summary>One multiplexer per process, shared by everything in it.</summary>
public static class RedisExtensions
{
    /// <summary>Adds the Redis multiplexer and its readiness check.</summary>
    public static IHostApplicationBuilder AddVigilRedis(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RedisOptions>()
            .Bind(builder.Configuration.GetSection(RedisOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
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
