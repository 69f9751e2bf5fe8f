using MassTransit;
using Microsoft.Extensions.Options;
using Vigil.Certificate.Retention;
using Vigil.Certificate.Results;
using Vigil.Certificate.Store;
using Vigil.Contracts.Events;

namespace Vigil.Certificate.Consumers;

/// <summary>An event that can never be applied (missing ids, impossible values): it goes to the error queue after the retries.</summary>
internal sealed class InvalidEventException(string message) : Exception(message);

/// <summary>Checks events before anything is stored.</summary>
internal static class EventValidation
{
    public static void Require(bool condition, string what)
    {
        if (!condition) throw new InvalidEventException(what);
    }

    public static void RequireIds(Guid eventId, string sessionId, string learnerId)
    {
        Require(eventId != Guid.Empty, "EventId is empty.");
        Require(!string.IsNullOrWhiteSpace(sessionId) && sessionId.Length <= 200 && !sessionId.Contains('{') && !sessionId.Contains('}'), "SessionId is missing or malformed.");
        Require(!string.IsNullOrWhiteSpace(learnerId) && learnerId.Length <= 200 && !learnerId.Contains('{') && !learnerId.Contains('}'), "LearnerId is missing or malformed.");
    }
}

/// <summary>An event older than the redelivery horizon: applying it could bring back an erased learner whose tombstone has expired.</summary>
internal sealed class EventBeyondHorizonException(string message) : Exception(message);

/// <summary>
/// Shared flow of the three consumers: index the learner's dashboard (idempotent) and store the fact (one
/// atomic Lua step: dedupe, order, write; it returns the session's hash), sent together in one round trip and
/// both awaited; then project from that hash (compare-and-set; a no-op when nothing changed).
/// Erasure (docs/privacy.md): a fact older than <c>Retention:RedeliveryHorizon</c> is refused to the error queue; a
/// fact from before an erasure of its learner (redelivered, replayed, or late) makes its session a tombstone and
/// nothing else, checked before it is stored and again after (an erasure may have run in between).
/// </summary>
internal abstract class FactConsumer<T>(FactConsumerContext fc, ILogger logger) : IConsumer<T>
    where T : class
{
    protected CertificateStore Store => fc.Store;

    public async Task Consume(ConsumeContext<T> context)
    {
        var (eventId, sessionId, learnerId) = Validate(context.Message);
        var at = FactTime(context.Message);
        var now = fc.Time.GetUtcNow();
        if (at < now - fc.Retention.Value.RedeliveryHorizon)
        {
            throw new EventBeyondHorizonException(
                $"{typeof(T).Name} {eventId} is about {at:O}, older than Retention:RedeliveryHorizon: it may concern a learner whose erasure is no longer remembered.");
        }
        if (await fc.Store.GetLearnerErasureAsync(learnerId) is { } erased && at <= erased.RequestedAt)
        {
            await fc.Store.EraseSessionAsync(sessionId, learnerId: null, now);
            ConsumerLog.Fact(logger, typeof(T).Name, eventId, sessionId, FactResult.Erased);
            return;
        }
        // The index is sent first, the fact right behind it on the same connection: one round trip, not two.
        var index = fc.Store.IndexLearnerAsync(learnerId, sessionId);
        var apply = ApplyAsync(context.Message);
        await Task.WhenAll(index, apply);
        var (result, record) = await apply;
        ConsumerLog.Fact(logger, typeof(T).Name, eventId, sessionId, result);
        if (result != FactResult.Erased)
        {
            await fc.Projector.ProjectAsync(sessionId, record);
        }
        // An erasure of the learner that ran while this fact was stored missed it: erase it now.
        if (await fc.Store.GetLearnerErasureAsync(learnerId) is { } late && at <= late.RequestedAt)
        {
            await fc.Store.EraseSessionAsync(sessionId, learnerId, now);
            await fc.Store.UnindexLearnerAsync(learnerId, sessionId);
            ConsumerLog.Fact(logger, typeof(T).Name, eventId, sessionId, FactResult.Erased);
        }
    }

    protected abstract (Guid EventId, string SessionId, string LearnerId) Validate(T message);

    /// <summary>When the fact happened (submission, expiry, decision): compared with the horizon and with an erasure.</summary>
    protected abstract DateTimeOffset FactTime(T message);

    protected abstract Task<(FactResult Result, SessionRecord? Record)> ApplyAsync(T message);
}

/// <summary>What every fact consumer needs (one registration instead of five constructor parameters each).</summary>
internal sealed class FactConsumerContext(CertificateStore store, ResultProjector projector, TimeProvider time, IOptions<RetentionOptions> retention)
{
    public CertificateStore Store => store;
    public ResultProjector Projector => projector;
    public TimeProvider Time => time;
    public IOptions<RetentionOptions> Retention => retention;
}

internal static partial class ConsumerLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "{EventType} {EventId} for session {SessionId}: {Result}")]
    public static partial void Fact(ILogger logger, string eventType, Guid eventId, string sessionId, FactResult result);
}

/// <summary>Consumes <see cref="SessionSubmitted"/> from <c>certificate-session-submitted</c>.</summary>
internal sealed class SessionSubmittedConsumer(FactConsumerContext context, ILogger<SessionSubmittedConsumer> logger)
    : FactConsumer<SessionSubmitted>(context, logger)
{
    protected override DateTimeOffset FactTime(SessionSubmitted m) => m.SubmittedAt;

    protected override (Guid, string, string) Validate(SessionSubmitted m)
    {
        EventValidation.RequireIds(m.EventId, m.SessionId, m.LearnerId);
        EventValidation.Require(Enum.IsDefined(m.Kind), "Kind is not a known submission kind.");
        EventValidation.Require(double.IsFinite(m.Score) && double.IsFinite(m.MaxScore) && double.IsFinite(m.PassMark) && m.Score >= 0 && m.PassMark >= 0,
            "Score, MaxScore and PassMark must be finite and not negative.");
        return (m.EventId, m.SessionId, m.LearnerId);
    }

    protected override Task<(FactResult Result, SessionRecord? Record)> ApplyAsync(SessionSubmitted m) => Store.ApplySubmittedAsync(m);
}

/// <summary>Consumes <see cref="SessionExpired"/> from <c>certificate-session-expired</c>.</summary>
internal sealed class SessionExpiredConsumer(FactConsumerContext context, ILogger<SessionExpiredConsumer> logger)
    : FactConsumer<SessionExpired>(context, logger)
{
    protected override DateTimeOffset FactTime(SessionExpired m) => m.ExpiredAt;

    protected override (Guid, string, string) Validate(SessionExpired m)
    {
        EventValidation.RequireIds(m.EventId, m.SessionId, m.LearnerId);
        return (m.EventId, m.SessionId, m.LearnerId);
    }

    protected override Task<(FactResult Result, SessionRecord? Record)> ApplyAsync(SessionExpired m) => Store.ApplyExpiredAsync(m);
}

/// <summary>Consumes <see cref="BoardDecisionRecorded"/> from <c>certificate-board-decision-recorded</c>.</summary>
internal sealed class BoardDecisionRecordedConsumer(FactConsumerContext context, ILogger<BoardDecisionRecordedConsumer> logger)
    : FactConsumer<BoardDecisionRecorded>(context, logger)
{
    protected override DateTimeOffset FactTime(BoardDecisionRecorded m) => m.DecidedAt;

    protected override (Guid, string, string) Validate(BoardDecisionRecorded m)
    {
        EventValidation.RequireIds(m.EventId, m.SessionId, m.LearnerId);
        EventValidation.Require(m.Version >= 1, "Version must be 1 or more.");
        EventValidation.Require(Enum.IsDefined(m.Outcome), "Outcome is not a known decision outcome.");
        return (m.EventId, m.SessionId, m.LearnerId);
    }

    protected override Task<(FactResult Result, SessionRecord? Record)> ApplyAsync(BoardDecisionRecorded m) => Store.ApplyDecisionAsync(m);
}
