using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Telemetry;
using Vigil.Session.Storage;

namespace Vigil.Session.Retention;

/// <summary>
/// Runs on every replica, every <see cref="RetentionOptions.SweepInterval"/> of the injected clock: deletes the sessions
/// whose retention ended (<see cref="RetentionOptions.EndOf"/>: after their deadline, at least after their latest
/// decision) with everything they hold, or what is left of an erased one, and counts what it deleted
/// (<c>vigil_retention_deleted_total{kind}</c>). The <c>retention-due</c> index is a hint written at the start (the
/// deadline); the sweeper works each session's end out from the session itself and moves its entry there, so a later
/// decision or extra time needs no other write. Two replicas sweeping together delete a session once (the purge
/// script is the claim).
/// </summary>
internal sealed partial class RetentionSweeper(
    SessionStore store,
    PrivacyMetrics metrics,
    TimeProvider time,
    IOptions<RetentionOptions> options,
    ILogger<RetentionSweeper> logger) : BackgroundService
{
    private const int Batch = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        try
        {
            do
            {
                try
                {
                    await SweepAsync(stoppingToken);
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

    /// <summary>One pass: every session whose entry is due, at most a few batches; returns how many sessions it deleted.</summary>
    internal async Task<int> SweepAsync(CancellationToken ct)
    {
        var deleted = 0;
        var o = options.Value;
        for (var round = 0; round < 10 && !ct.IsCancellationRequested; round++)
        {
            var now = time.GetUtcNow();
            var due = await store.DueRetentionAsync(now, Batch);
            foreach (var entry in due)
            {
                if (await SweepOneAsync(entry, now, o)) deleted++;
            }
            if (due.Count < Batch) break;
        }
        return deleted;
    }

    private async Task<bool> SweepOneAsync(DueSession entry, DateTimeOffset now, RetentionOptions o)
    {
        if (await store.GetRetentionViewAsync(entry.SessionId) is not { } view)
        {
            await store.RemoveRetentionEntryAsync(entry);
            return false;
        }
        var end = o.EndOf(view.Deadline, view.LastDecidedAt);
        if (end > now)
        {
            // Not yet (the entry is a hint: the deadline at the start, or an end a decision has pushed since).
            await store.RescheduleRetentionAsync(view.SessionId, end);
            return false;
        }
        await store.UnindexAsync(view);
        var purge = await store.PurgeAsync(view);
        switch (purge.Status)
        {
            case PurgeStatus.Purged:
                metrics.RetentionDeleted("sessions", 1);
                metrics.RetentionDeleted("answers", purge.Answers);
                metrics.RetentionDeleted("incidents", purge.Incidents);
                metrics.RetentionDeleted("decisions", purge.Decisions);
                break;
            case PurgeStatus.PurgedErased:
                metrics.RetentionDeleted("erased_sessions", 1);
                break;
            case PurgeStatus.Changed:
                // A decision since the read, or events still to relay: back in its indexes; the next pass works it out again.
                await store.ReindexAsync(view);
                return false;
        }
        await store.RemoveRetentionEntryAsync(entry);
        if (purge.Status == PurgeStatus.Gone) return false;
        LogDeleted(logger, view.SessionId, view.Erased);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention ended for session {SessionId} (erased before: {Erased}): deleted")]
    private static partial void LogDeleted(ILogger logger, string sessionId, bool erased);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention sweep failed; retrying at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
