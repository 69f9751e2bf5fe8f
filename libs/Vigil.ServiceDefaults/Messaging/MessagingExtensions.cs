using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Vigil.ServiceDefaults.Hosting;
using Vigil.ServiceDefaults.Redis;

namespace Vigil.ServiceDefaults.Messaging;

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
    public static IHostApplicationBuilder AddVigilMessaging(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator>? configure = null)
    {
        builder.Services.AddValidatedOptions<RabbitMqOptions>(RabbitMqOptions.Section);

        builder.Services.AddMassTransit(x =>
        {
            // MassTransit 8.4+ reports anonymous usage to its makers unless told not to: nothing leaves unasked.
            x.DisableUsageTelemetry();
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
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
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
                cfg.ConfigureEndpoints(context);
            });
        });
        // MASSTRANSIT_USAGE_TELEMETRY=true would turn the reports back on over the option: refuse to start instead.
        builder.Services.AddSingleton<IValidateOptions<UsageTelemetryOptions>, UsageTelemetryOff>();
        builder.Services.AddOptions<UsageTelemetryOptions>().ValidateOnStart();
        // Liveness never waits for the broker: the bus starts in the background and readiness reports it.
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false;
            o.StopTimeout = TimeSpan.FromSeconds(15);
        });
        return builder;
    }
}

/// <summary>Holds MassTransit's usage telemetry off: the option, and the environment variable that overrides it.</summary>
internal sealed class UsageTelemetryOff : IValidateOptions<UsageTelemetryOptions>
{
    /// <summary>The variable MassTransit reads when its usage tracker starts; it wins over the option.</summary>
    public const string Variable = "MASSTRANSIT_USAGE_TELEMETRY";

    public ValidateOptionsResult Validate(string? name, UsageTelemetryOptions options)
    {
        if (options.Enabled) return ValidateOptionsResult.Fail("MassTransit usage telemetry is enabled: Vigil reports nothing to third parties.");
        return TurnsOn(Environment.GetEnvironmentVariable(Variable))
            ? ValidateOptionsResult.Fail($"{Variable} turns MassTransit's usage reports to its makers on: Vigil reports nothing to third parties; unset it.")
            : ValidateOptionsResult.Success;
    }

    /// <summary>Whether MassTransit would read this value as "on" (true, or 1).</summary>
    public static bool TurnsOn(string? value) =>
        !string.IsNullOrWhiteSpace(value) && (bool.TryParse(value, out var on) ? on : int.TryParse(value, out var number) && number == 1);
}
