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
    IConnectionMultiplexer redis,
    RedisKeys keys,
    SessionFinisher finisher,
    TimeProvider time,
    IOptions<SessionServiceOptions> options,
    ILogger<SessionSweeper> logger) : BackgroundService
{
    private const int Batch = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
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
            try
            {
                await Task.Delay(options.Value.SweepInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Expires every session whose deadline has passed.</summary>
    internal async Task SweepDeadlinesAsync()
    {
        var db = redis.GetDatabase();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var due = await db.SortedSetRangeByScoreWithScoresAsync(keys.Deadlines, double.NegativeInfinity, now, take: Batch);
        foreach (var entry in due)
        {
            var sessionId = entry.Element.ToString();
            var result = await finisher.ExpireAsync(sessionId);
            switch (result.Outcome)
            {
                case FinishOutcome.Done:
                    LogExpired(logger, sessionId, result.Session?.State.ToString() ?? "?");
                    break;
                case FinishOutcome.TooEarly:
                    continue;
            }
            await db.ScriptEvaluateAsync(Scripts.RemoveIfScore, [keys.Deadlines], [sessionId, entry.Score]);
        }
    }

    /// <summary>Opens a connection-lost incident for every session whose heartbeats stopped for longer than its exam allows.</summary>
    internal async Task SweepHeartbeatGapsAsync()
    {
        var db = redis.GetDatabase();
        var now = time.GetUtcNow();
        var due = await db.SortedSetRangeByScoreWithScoresAsync(keys.HeartbeatDue, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: Batch);
        foreach (var entry in due)
        {
            var sessionId = entry.Element.ToString();
            var k = keys.Session(sessionId);
            var reply = (RedisResult[])(await db.ScriptEvaluateAsync(Scripts.HeartbeatGap,
                [k.Hash, k.Incidents, k.OpenIncidents],
                [now.ToUnixTimeMilliseconds(), "No heartbeat for longer than the exam allows: the connection counted as lost."]))!;
            switch (reply[0].ToString())
            {
                case "later":
                    await db.SortedSetAddAsync(keys.HeartbeatDue, sessionId, (double)reply[1], SortedSetWhen.GreaterThan);
                    break;
                case "opened":
                    LogConnectionLost(logger, sessionId);
                    await db.ScriptEvaluateAsync(Scripts.RemoveIfScore, [keys.HeartbeatDue], [sessionId, entry.Score]);
                    break;
                default:
                    await db.ScriptEvaluateAsync(Scripts.RemoveIfScore, [keys.HeartbeatDue], [sessionId, entry.Score]);
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
