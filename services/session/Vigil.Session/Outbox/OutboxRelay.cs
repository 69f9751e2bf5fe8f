using MassTransit;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Messaging;
using Vigil.Session.Options;
using Vigil.Session.Storage;

namespace Vigil.Session.Outbox;

/// <summary>
/// Relays the sessions' outboxes to RabbitMQ, on any replica: takes a session's lease, publishes each event with
/// publisher confirms and removes it from the outbox only after the broker confirmed. Never lost, possibly repeated
/// (a crash between the confirm and the removal publishes again; consumers dedupe on EventId).
/// </summary>
internal sealed partial class OutboxRelay(
    IConnectionMultiplexer redis,
    RedisKeys keys,
    IBus bus,
    EventTopologyDeclarer topology,
    TimeProvider time,
    IOptions<SessionServiceOptions> options,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    private readonly string _holder = Environment.MachineName + ":" + Environment.ProcessId + ":" + Guid.NewGuid().ToString("N")[..8];

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
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RelayOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogRelayFailed(logger, ex);
            }
            try
            {
                await Task.Delay(options.Value.OutboxPollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass over the pending sessions; returns how many events were published.</summary>
    internal async Task<int> RelayOnceAsync(CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var o = options.Value;
        var published = 0;
        var pending = await db.SortedSetRangeByRankAsync(keys.OutboxPending, 0, 999);
        // Sessions side by side (Redis groups their fsyncs); one session's events stay in order.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = o.OutboxRelayConcurrency, CancellationToken = ct };
        try
        {
            await Parallel.ForEachAsync(pending, parallel, async (member, _) =>
                Interlocked.Add(ref published, await RelaySessionAsync(db, o, member.ToString(), ct)));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        return published;
    }

    /// <summary>Relays one session's outbox under its lease; returns how many events were published.</summary>
    private async Task<int> RelaySessionAsync(IDatabase db, SessionServiceOptions o, string sessionId, CancellationToken ct)
    {
        var published = 0;
        var lease = keys.OutboxLease(sessionId);
        if (!await db.StringSetAsync(lease, _holder, o.OutboxLeaseDuration, When.NotExists)) return 0;
        try
        {
            var outbox = keys.Session(sessionId).Outbox;
            foreach (var line in await db.ListRangeAsync(outbox))
            {
                var text = line.ToString();
                var entry = OutboxEntry.Deserialize(text);
                if (entry is null)
                {
                    LogUnreadable(logger, sessionId);
                    continue;
                }
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(o.PublishTimeout);
                try
                {
                    await bus.Publish(entry.Value.Event, entry.Value.Type, timeout.Token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    LogPublishFailed(logger, sessionId, entry.Value.Type.Name, ex);
                    break;
                }
                // Confirmed by the broker: only now does it leave the outbox.
                await db.ListRemoveAsync(outbox, line, 1);
                published++;
                LogPublished(logger, entry.Value.Type.Name, sessionId);
            }
            if (await db.ListLengthAsync(outbox) == 0)
            {
                var bound = (time.GetUtcNow() - o.OutboxAnnounceGrace).ToUnixTimeMilliseconds();
                await db.ScriptEvaluateAsync(Scripts.RemoveIfOlder, [keys.OutboxPending], [sessionId, bound]);
            }
        }
        finally
        {
            await db.ScriptEvaluateAsync(Scripts.ReleaseLease, [lease], [_holder]);
        }
        return published;
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
