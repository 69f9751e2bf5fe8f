using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vigil.ServiceDefaults.Hosting;

namespace Vigil.ServiceDefaults.Health;

/// <summary>
/// Whether this instance is draining (shutting down). Long-lived streams watch <see cref="Draining"/>
/// and tell their clients to reconnect elsewhere; readiness turns not-serving as soon as it starts.
/// </summary>
public sealed class DrainState
{
    private readonly CancellationTokenSource _streamsMustMove = new();
    private volatile bool _draining;

    /// <summary>Whether the instance is draining: readiness is not-serving.</summary>
    public bool IsDraining => _draining;

    /// <summary>Cancelled once open streams must tell their clients to reconnect elsewhere.</summary>
    public CancellationToken StreamsMustMove => _streamsMustMove.Token;

    /// <summary>Readiness turns not-serving.</summary>
    public void Begin() => _draining = true;

    /// <summary>Open streams are told to reconnect elsewhere.</summary>
    public void MoveStreams()
    {
        _draining = true;
        _streamsMustMove.Cancel();
    }
}

internal sealed class DrainHealthCheck(DrainState drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(drain.IsDraining ? HealthCheckResult.Unhealthy("draining: shutting down") : HealthCheckResult.Healthy());
}

/// <summary>On SIGTERM: readiness goes not-serving, then after the drain delay the streams are told to reconnect.</summary>
internal sealed partial class DrainOnShutdown(
    DrainState drain,
    IHostApplicationLifetime lifetime,
    IOptions<HostingOptions> options,
    ILogger<DrainOnShutdown> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(() =>
        {
            LogDraining(logger, options.Value.DrainDelay);
            drain.Begin();
            // Give load balancers the drain delay to see readiness fail before the streams are told to move.
            Thread.Sleep(options.Value.DrainDelay);
            drain.MoveStreams();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: readiness is not-serving, streams will be told to reconnect after {DrainDelay}")]
    private static partial void LogDraining(ILogger logger, TimeSpan drainDelay);
}
