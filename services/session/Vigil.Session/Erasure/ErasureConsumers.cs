using Google.Protobuf.WellKnownTypes;
using MassTransit;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Events;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Messaging;
using Vigil.ServiceDefaults.Telemetry;
using Vigil.Session.Audit;
using Vigil.Session.Exams;
using Vigil.Session.Retention;
using Vigil.Session.Storage;

namespace Vigil.Session.Erasure;

/// <summary>
/// The session service's part of an erasure (queue <c>session-learner-erasure-requested</c>): each of the learner's
/// sessions loses everything personal in one step (learner, answers, incidents, receipt, exception, decisions' notes,
/// the outbox's events) and keeps an erased record for the board; the claims, the due entries and the learner's index
/// go, as do their extra time and allowances; the audit entries naming them keep their facts under a pseudonym. Then
/// the report is published; the message is acknowledged only after it, so a crash erases again (nothing left to do)
/// and reports again.
/// </summary>
internal sealed partial class SessionErasureConsumer(
    SessionStore sessions,
    ExamStore exams,
    AuditTrail audit,
    PrivacyMetrics metrics,
    TimeProvider time,
    ILogger<SessionErasureConsumer> logger) : IConsumer<LearnerErasureRequested>
{
    private const int MaxAttempts = 8;

    public async Task Consume(ConsumeContext<LearnerErasureRequested> context)
    {
        var m = context.Message;
        ErasureMessages.Require(ErasureReports.IsWellFormed(m), ErasureReports.Malformed);
        var erased = 0;
        foreach (var sessionId in await sessions.GetLearnerSessionIdsAsync(m.LearnerId, startedNotAfter: m.RequestedAt))
        {
            if (await EraseAsync(sessionId, m.LearnerId)) erased++;
            // Out of the learner's index once erased (or found gone): an id added meanwhile by a new start stays.
            await sessions.RemoveFromLearnerAsync(m.LearnerId, sessionId);
        }
        metrics.Erased("sessions", erased);
        // The learner's extra time and allowances on any exam (an allowance's reason may be about their health).
        metrics.Erased("exam-grants", await exams.EraseLearnerGrantsAsync(m.LearnerId));
        // The audit entries that name the learner keep the fact under a pseudonym (entries are otherwise never changed).
        metrics.Erased("audit-entries", await audit.PseudonymiseLearnerAsync(m.LearnerId));
        LogErased(logger, m.RequestId, erased);
        await context.ReportErasureAsync(ErasureServices.Session, erased, time.GetUtcNow());
    }

    /// <summary>Erases one session of the learner; true when erased now (false: already erased, gone, or another learner's).</summary>
    private async Task<bool> EraseAsync(string sessionId, string learnerId)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (await sessions.GetAsync(sessionId) is not { } session || session.LearnerId != learnerId) return false;
            // The claim first (its key names the learner): a crash after it finds the session still there and repeats.
            await sessions.ReleaseClaimAsync(session.ExamId, learnerId, sessionId);
            var decisions = session.DecisionVersion > 0 ? await sessions.GetDecisionsAsync(sessionId) : [];
            var now = time.GetUtcNow();
            switch (await sessions.EraseSessionAsync(session, ErasedRecord(session, decisions, now)))
            {
                case SessionErasure.Erased:
                    await sessions.DropFromDueIndexesAsync(sessionId);
                    return true;
                case SessionErasure.Changed:
                    continue;
                default:
                    return false;
            }
        }
        throw new InvalidOperationException($"Session {sessionId} kept changing while it was being erased; the request will be retried.");
    }

    /// <summary>What the board may still see of an erased session: no learner, answers, incidents, photos, receipt, exception or notes.</summary>
    internal static ErasedSession ErasedRecord(SessionData s, IReadOnlyList<BoardDecision> decisions, DateTimeOffset now)
    {
        var record = new SessionRecord
        {
            Session = new Contracts.Session.V1.Session
            {
                SessionId = s.SessionId,
                ExamId = s.ExamId,
                CourseId = s.CourseId,
                State = s.State,
                StartedAt = Timestamp.FromDateTimeOffset(s.StartedAt),
                Deadline = Timestamp.FromDateTimeOffset(s.Deadline),
                SubmittedAt = s.SubmittedAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
                Attempt = s.Attempt,
            },
            ExamTitle = s.Exam.Title,
            ErasedAt = Timestamp.FromDateTimeOffset(now),
        };
        foreach (var d in decisions)
        {
            var kept = d.Clone();
            kept.Notes = string.Empty;
            record.Decisions.Add(kept);
        }
        return new ErasedSession(s.SessionId, s.CourseId, record, s.Deadline, decisions.LastOrDefault()?.DecidedAt?.ToDateTimeOffset(), now);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure request {RequestId}: {Sessions} sessions erased")]
    private static partial void LogErased(ILogger logger, string requestId, int sessions);
}

/// <summary>
/// The owner's side (queue <c>session-learner-erasure-completed</c>): each report is recorded once (by its event id),
/// a service's counts add up over its reports (deliveries of the request handled side by side each erase part); the
/// first report of the last service completes the request (the learner's id leaves the record, which expires after <c>Retention:ErasureRequests</c>).
/// </summary>
internal sealed partial class ErasureReportConsumer(
    ErasureStore erasures,
    IOptions<RetentionOptions> retention,
    ILogger<ErasureReportConsumer> logger) : IConsumer<LearnerErasureCompleted>
{
    public async Task Consume(ConsumeContext<LearnerErasureCompleted> context)
    {
        var m = context.Message;
        ErasureMessages.Require(m.EventId != Guid.Empty && ErasureIds.IsValidRequestId(m.RequestId) && ErasureServices.All.Contains(m.Service) && m.RecordsErased >= 0,
            "LearnerErasureCompleted needs an EventId, a RequestId, a known Service and RecordsErased >= 0.");
        var status = await erasures.RecordReportAsync(m.RequestId, m.EventId, m.Service, m.RecordsErased, m.CompletedAt, retention.Value.ErasureRequests);
        LogReport(logger, m.RequestId, m.Service, status);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure request {RequestId}: {Service} reported ({Status})")]
    private static partial void LogReport(ILogger logger, string requestId, string service, ReportStatus status);
}

/// <summary>A message that can never be applied: it goes to the error queue after the retries.</summary>
internal sealed class InvalidErasureMessageException(string message) : Exception(message);

internal static class ErasureMessages
{
    public static void Require(bool condition, string what)
    {
        if (!condition) throw new InvalidErasureMessageException(what);
    }
}
