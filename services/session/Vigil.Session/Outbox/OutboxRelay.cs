using MassTransit;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Messaging;
using Vigil.Session.Options;

namespace Vigil.Session.Outbox;

/// <summary>
/// Relays the sessions' outboxes to RabbitMQ, on any replica: takes a session's lease, publishes each event with
/// publisher confirms and removes it from the outbox only after the broker confirmed. Never lost, possibly repeated
/// (a crash between the confirm and the removal publishes again; consumers dedupe on EventId).
/// Two ways in: a session this replica just wrote an event for is relayed at once (<see cref="OutboxSignal"/>); every
/// <c>OutboxPollInterval</c> the pending index is walked for the rest (other replicas, crashes, a full signal queue).
/// </summary>
internal sealed partial class OutboxRelay(
    OutboxStore store,
    IBus bus,
    EventTopologyDeclarer topology,
    OutboxSignal signal,
    TimeProvider time,
    IOptions<SessionServiceOptions> options,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    /// <summary>Rounds of claim → publish → complete for one session in one go, so that a busy session yields to the others.</summary>
    private const int MaxPassesPerSession = 8;

    private readonly string _holder = Environment.MachineName + ":" + Environment.ProcessId + ":" + Guid.NewGuid().ToString("N")[..8];

    // One bound for both ways in: at most OutboxRelayConcurrency sessions of this replica are being relayed at once.
    private readonly SemaphoreSlim _slots = new(options.Value.OutboxRelayConcurrency, options.Value.OutboxRelayConcurrency);

    // The poll's memory (used by the poll loop only): session → its score in the pending index when the poll found its
    // outbox empty. A writer announces (a new score) BEFORE it writes the outbox, so while the score is unchanged
    // there is nothing new to look at and the walk skips the session without a round trip, until the announcement is
    // older than the grace (then it is checked and dropped as before).
    private readonly Dictionary<string, DateTimeOffset> _foundEmpty = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await topology.Ready.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var signalled = RelaySignalledAsync(stoppingToken);
        // Polls at ticks of the injected clock (a test's fake clock drives them as the real one does in production).
        using var timer = new PeriodicTimer(options.Value.OutboxPollInterval, time);
        try
        {
            do
            {
                try
                {
                    await RelayOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    LogRelayFailed(logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await signalled;
    }

    /// <summary>Relays the sessions this replica signalled, as they come, side by side.</summary>
    private async Task RelaySignalledAsync(CancellationToken ct)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Value.OutboxRelayConcurrency, CancellationToken = ct };
        try
        {
            await Parallel.ForEachAsync(signal.Sessions.ReadAllAsync(ct), parallel, async (sessionId, _) =>
            {
                try
                {
                    // Just announced by the writer: an empty outbox stays in the index (the poll drops it after the grace).
                    await RelaySessionAsync(options.Value, sessionId, announcedAt: null, ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    // The event stays in the outbox and its session in the pending index: the poll retries it.
                    LogRelayFailed(logger, ex);
                }
            });
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One pass over the pending sessions (the oldest 1,000); returns how many events were published. Not reentrant:
    /// the poll loop calls it one pass at a time.
    /// </summary>
    internal async Task<int> RelayOnceAsync(CancellationToken ct)
    {
        var o = options.Value;
        var published = 0;
        var pending = await store.PendingAsync(1000);
        var bound = time.GetUtcNow() - o.OutboxAnnounceGrace;
        var walk = new List<PendingOutbox>(pending.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in pending)
        {
            seen.Add(member.SessionId);
            if (member.AnnouncedAt >= bound && _foundEmpty.TryGetValue(member.SessionId, out var announced) && announced == member.AnnouncedAt) continue;
            _foundEmpty.Remove(member.SessionId);
            walk.Add(member);
        }
        foreach (var gone in _foundEmpty.Keys.Where(k => !seen.Contains(k)).ToList()) _foundEmpty.Remove(gone);
        var empty = new System.Collections.Concurrent.ConcurrentBag<PendingOutbox>();
        // Sessions side by side (Redis groups their fsyncs); one session's events stay in order.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = o.OutboxRelayConcurrency, CancellationToken = ct };
        try
        {
            await Parallel.ForEachAsync(walk, parallel, async (member, _) =>
            {
                var (count, left) = await RelaySessionAsync(o, member.SessionId, member.AnnouncedAt, ct);
                Interlocked.Add(ref published, count);
                if (left == 0) empty.Add(member);
            });
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        foreach (var member in empty) _foundEmpty[member.SessionId] = member.AnnouncedAt;
        return published;
    }

    /// <summary>
    /// Relays one session's outbox under its lease; returns how many events were published. Each round is two Redis
    /// steps on the session's slot: take the lease and read the outbox, then (after the broker confirmed) remove what
    /// was published, count what is left and release the lease. An empty outbox costs one read and no write (no
    /// fsync): the poll walks the sessions just relayed, still announced until the grace, at that price. <paramref name="announcedAt"/> is the session's
    /// score in the pending index when the poll found it (null when signalled): an empty outbox announced before the
    /// grace leaves the index.
    /// </summary>
    private async Task<(int Published, long Left)> RelaySessionAsync(SessionServiceOptions o, string sessionId, DateTimeOffset? announcedAt, CancellationToken ct)
    {
        var bound = time.GetUtcNow() - o.OutboxAnnounceGrace;
        await _slots.WaitAsync(ct);
        try
        {
            var published = 0;
            for (var pass = 0; pass < MaxPassesPerSession; pass++)
            {
                var claim = await store.ClaimAsync(sessionId, _holder, o.OutboxLeaseDuration);
                if (claim.Status == OutboxClaimStatus.Busy) return (published, -1);
                long left = 0;
                var done = new List<OutboxItem>();
                var failed = false;
                if (claim.Status == OutboxClaimStatus.Held)
                {
                    try
                    {
                        foreach (var item in claim.Items)
                        {
                            if (item.Event is null || item.Type is null)
                            {
                                LogUnreadable(logger, sessionId);
                                continue;
                            }
                            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                            timeout.CancelAfter(o.PublishTimeout);
                            try
                            {
                                await bus.Publish(item.Event, item.Type, timeout.Token);
                            }
                            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                            {
                                LogPublishFailed(logger, sessionId, item.Type.Name, ex);
                                failed = true;
                                break;
                            }
                            // Confirmed by the broker: only now may it leave the outbox.
                            done.Add(item);
                            LogPublished(logger, item.Type.Name, sessionId);
                        }
                    }
                    finally
                    {
                        // Remove what the broker confirmed, count what is left, release the lease: one step.
                        left = await store.CompleteAsync(sessionId, _holder, done);
                        published += done.Count;
                    }
                }
                // Empty: no lease was taken.
                if (left == 0)
                {
                    if (announcedAt < bound) await store.DropIfAnnouncedBeforeAsync(sessionId, bound);
                    return (published, 0);
                }
                if (failed || done.Count == 0) return (published, left);
            }
            return (published, -1);
        }
        finally
        {
            _slots.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay pass failed; retrying")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox of session {SessionId} holds an entry this version cannot read; left in place")]
    private static partial void LogUnreadable(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing {EventType} of session {SessionId} failed; it stays in the outbox")]
    private static partial void LogPublishFailed(ILogger logger, string sessionId, string eventType, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published {EventType} of session {SessionId}")]
    private static partial void LogPublished(ILogger logger, string eventType, string sessionId);
}
