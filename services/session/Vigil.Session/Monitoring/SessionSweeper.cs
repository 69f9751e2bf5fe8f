using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Vigil.Session.Options;
using Vigil.Session.Sessions;
using Vigil.Session.Storage;

namespace Vigil.Session.Monitoring;

/// <summary>
/// Runs on every replica: expires sessions whose deadline passed (applying the exam's policy, with the event in the
/// same step) and opens connection-lost incidents for heartbeat gaps. Both read global sorted sets; the per-session
/// scripts are the atomic claim, so two replicas sweeping together change a session once.
/// </summary>
internal sealed partial class SessionSweeper(
    SessionStore store,
    SessionFinisher finisher,
    TimeProvider time,
    IOptions<SessionServiceOptions> options,
    ILogger<SessionSweeper> logger) : BackgroundService
{
    private const int Batch = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Ticks of the injected clock: a test's fake clock drives the sweeps as the real one does in production.
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        try
        {
            do
            {
                try
                {
                    await SweepDeadlinesAsync();
                    await SweepHeartbeatGapsAsync();
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    LogSweepFailed(logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Expires every session whose deadline has passed.</summary>
    internal async Task SweepDeadlinesAsync()
    {
        foreach (var entry in await store.DueDeadlinesAsync(time.GetUtcNow(), Batch))
        {
            var result = await finisher.ExpireAsync(entry.SessionId);
            switch (result.Outcome)
            {
                case FinishOutcome.Done:
                    LogExpired(logger, entry.SessionId, result.Session?.State.ToString() ?? "?");
                    break;
                case FinishOutcome.TooEarly:
                    continue;
            }
            await store.RemoveDeadlineAsync(entry);
        }
    }

    /// <summary>Opens a connection-lost incident for every session whose heartbeats stopped for longer than its exam allows.</summary>
    internal async Task SweepHeartbeatGapsAsync()
    {
        var now = time.GetUtcNow();
        foreach (var entry in await store.DueHeartbeatChecksAsync(now, Batch))
        {
            var check = await store.CheckHeartbeatGapAsync(entry.SessionId, now, "No heartbeat for longer than the exam allows: the connection counted as lost.");
            switch (check.Status)
            {
                case GapStatus.Later:
                    await store.PostponeHeartbeatCheckAsync(entry.SessionId, check.Due!.Value);
                    break;
                case GapStatus.Opened:
                    LogConnectionLost(logger, entry.SessionId);
                    await store.RemoveHeartbeatCheckAsync(entry);
                    break;
                default:
                    await store.RemoveHeartbeatCheckAsync(entry);
                    break;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session sweep failed; retrying")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} reached its deadline: {State}")]
    private static partial void LogExpired(ILogger logger, string sessionId, string state);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId}: heartbeats stopped, connection-lost incident opened")]
    private static partial void LogConnectionLost(ILogger logger, string sessionId);
}
