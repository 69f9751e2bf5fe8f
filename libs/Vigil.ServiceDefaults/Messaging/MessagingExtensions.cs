using System.ComponentModel.DataAnnotations;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Vigil.ServiceDefaults.Redis;

namespace Vigil.ServiceDefaults.Messaging;

/// <summary>RabbitMQ options, bound from the "RabbitMq" section.</summary>
public sealed class RabbitMqOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RabbitMq";

    /// <summary>The broker, e.g. "amqp://user:password@rabbitmq:5672/vhost".</summary>
    [Required]
    public string Uri { get; set; } = "amqp://guest:guest@127.0.0.1:5672/";

    /// <summary>Immediate redeliveries before a message goes to the error queue (no delayed redelivery: Debian's RabbitMQ has no delay plugin).</summary>
    [Range(0, 20)]
    public int ImmediateRetries { get; set; } = 3;

    /// <summary>
    /// Messages each consumer queue has in flight at once (RabbitMQ prefetch, and as many processed side by side).
    /// MassTransit's own default is twice the processor count, at least 16: 16 on a small container, fewer than the
    /// session relay's 32 sessions in flight, each message waiting on its Redis round trips. The consumers are
    /// idempotent and order-safe, so in-flight messages of one session may be processed concurrently.
    /// </summary>
    [Range(1, 1000)]
    public int PrefetchCount { get; set; } = 64;
}

/// <summary>
/// MassTransit over RabbitMQ: kebab-case endpoints, one queue per consumer, immediate retries, then the error queue;
/// a store failure (Redis failing over) is retried over half a minute instead.
/// </summary>
public static class MessagingExtensions
{
    /// <summary>The pauses between attempts of a message that met a store failure: about 31 s in all, longer than a failover.</summary>
    internal static readonly TimeSpan[] StoreRetryIntervals =
        [.. new[] { 100, 250, 500, 1000, 2000, 4000, 8000, 15000 }.Select(ms => TimeSpan.FromMilliseconds(ms))];

    /// <summary>Adds MassTransit over RabbitMQ. <paramref name="configure"/> adds consumers; endpoints are configured from them.</summary>
    public static IHostApplicationBuilder AddVigilMessaging(
        this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator>? configure = null,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? configureBus = null)
    {
        builder.Services.AddOptions<RabbitMqOptions>()
            .Bind(builder.Configuration.GetSection(RabbitMqOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => System.Uri.TryCreate(o.Uri, UriKind.Absolute, out var u) && u.Scheme is "amqp" or "amqps", "RabbitMq:Uri must be an amqp:// or amqps:// URI.")
            .ValidateOnStart();
        var options = builder.Configuration.GetSection(RabbitMqOptions.Section).Get<RabbitMqOptions>() ?? new RabbitMqOptions();

        builder.Services.AddMassTransit(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();
            // The broker in readiness: Degraded at worst, never Unhealthy (HealthTags.Ready says why).
            x.ConfigureHealthCheckOptions(h =>
            {
                h.Name = "rabbitmq";
                h.MinimalFailureStatus = Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded;
            });
            configure?.Invoke(x);
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(new Uri(options.Uri), h => h.PublisherConfirmation = true);
                cfg.PrefetchCount = options.PrefetchCount;
                // A store that fails over (a primary dies, its replica is promoted) refuses writes for seconds: a
                // message that meets that is retried over half a minute, so no event ends in the error queue for it.
                // Any other failure is retried at once, a few times, then goes to the error queue.
                cfg.UseMessageRetry(r =>
                {
                    r.Handle<Exception>(RedisFailure.IsUnavailable);
                    r.Intervals(StoreRetryIntervals);
                });
                cfg.UseMessageRetry(r =>
                {
                    r.Ignore<Exception>(RedisFailure.IsUnavailable);
                    r.Immediate(options.ImmediateRetries);
                });
                configureBus?.Invoke(context, cfg);
                cfg.ConfigureEndpoints(context);
            });
        });
        // Liveness never waits for the broker: the bus starts in the background and readiness reports it.
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false;
            o.StopTimeout = TimeSpan.FromSeconds(15);
        });
        return builder;
    }
}
