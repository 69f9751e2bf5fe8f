using Vigil.Contracts.Events;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Answers;
using Vigil.Session.Exams;
using Vigil.Session.Storage;

namespace Vigil.Session.Sessions;

/// <summary>The outcome of an attempt to end a session.</summary>
internal enum FinishOutcome
{
    /// <summary>The session ended now.</summary>
    Done,
    /// <summary>It had already ended (or the exception was already granted).</summary>
    AlreadyFinished,
    /// <summary>The final check's last sequence is not the server's.</summary>
    SequenceMismatch,
    /// <summary>The deadline has passed (final check).</summary>
    DeadlinePassed,
    /// <summary>The deadline has not passed yet (expiry).</summary>
    TooEarly,
    /// <summary>The session is in a state that does not allow this.</summary>
    WrongState,
    /// <summary>No such session.</summary>
    Missing,
}

/// <summary>What an attempt to end a session did.</summary>
internal sealed record FinishResult(FinishOutcome Outcome, SessionData? Session, long ServerLastAcked = 0);

/// <summary>
/// Ends sessions: the final check, the deadline (under the exam's policy) and the board's exception. Each is one
/// script that changes the state and appends the event to the session's outbox; the receipt and the marks are
/// computed from the answers read just before, and the script refuses (and this retries) if any answer changed since.
/// </summary>
internal sealed class SessionFinisher(SessionStore store, TimeProvider time)
{
    private const int MaxAttempts = 10;

    /// <summary>The learner's final check.</summary>
    public Task<FinishResult> FinalCheckAsync(string sessionId, long lastSaveSequence, string requestId) =>
        RunAsync(sessionId, FinishMode.FinalCheck, lastSaveSequence, requestId, null);

    /// <summary>The deadline passed: applies the exam's deadline policy.</summary>
    public Task<FinishResult> ExpireAsync(string sessionId) => RunAsync(sessionId, FinishMode.Expiry, -1, string.Empty, null);

    /// <summary>The board accepts the saved answers of an expired, unsubmitted session; <paramref name="audit"/> is written with it.</summary>
    public Task<FinishResult> AcceptSavedAnswersAsync(string sessionId, SubmissionException exception, string requestId, Vigil.Session.Audit.AuditWrite? audit = null) =>
        RunAsync(sessionId, FinishMode.BoardException, -1, requestId, exception, audit);

    private async Task<FinishResult> RunAsync(string sessionId, FinishMode mode, long lastSaveSequence, string requestId, SubmissionException? exception,
        Vigil.Session.Audit.AuditWrite? audit = null)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var session = await store.GetAsync(sessionId);
            if (session is null) return new FinishResult(FinishOutcome.Missing, null);
            var answers = await store.GetAnswersAsync(sessionId);
            var now = time.GetUtcNow();
            // A submission is stamped with the time it happened; an expiry no earlier than the deadline.
            var (newState, kind, submitted) = mode switch
            {
                FinishMode.FinalCheck => (SessionState.Submitted, SubmissionKind.FinalCheck, true),
                FinishMode.BoardException => (SessionState.SubmittedByException, SubmissionKind.BoardException, true),
                _ when session.Exam.DeadlinePolicy == DeadlinePolicy.SubmitSaved => (SessionState.ExpiredSubmitted, SubmissionKind.DeadlinePolicy, true),
                _ => (SessionState.ExpiredUnsubmitted, (SubmissionKind)0, false),
            };
            Submission? submission = null;
            object? evt;
            if (submitted)
            {
                submission = Receipts.Build(sessionId, session.ExamId, session.LearnerId, session.Exam, answers, now, newState, session.LastAcked);
            }
            // A practice exam's session publishes nothing: the certificate service never hears of it (no outbox entry).
            if (ExamValidator.IsPractice(session.Exam))
            {
                evt = null;
            }
            else if (submission is not null)
            {
                evt = new SessionSubmitted
                {
                    EventId = Guid.NewGuid(),
                    SessionId = sessionId,
                    ExamId = session.ExamId,
                    CourseId = session.CourseId,
                    LearnerId = session.LearnerId,
                    LearnerName = session.LearnerName,
                    LearnerEmail = session.LearnerEmail,
                    ExamTitle = session.Exam.Title,
                    Kind = kind,
                    SubmittedAt = now,
                    Score = submission.Score,
                    MaxScore = submission.MaxScore,
                    PassMark = session.Exam.PassMark,
                    IdDocumentPhotoAccepted = session.IdDocumentPhotoAccepted,
                    ReceiptDigest = submission.Receipt.ReceiptDigest,
                };
            }
            else
            {
                evt = new SessionExpired
                {
                    EventId = Guid.NewGuid(),
                    SessionId = sessionId,
                    ExamId = session.ExamId,
                    CourseId = session.CourseId,
                    LearnerId = session.LearnerId,
                    ExamTitle = session.Exam.Title,
                    ExpiredAt = now,
                    UnvalidatedAnswers = answers.Count,
                };
            }
            var reply = await store.FinishAsync(sessionId, new SessionEnding(mode, session.Rev, now, newState, lastSaveSequence,
                submission?.Receipt, submission?.Score ?? 0, submission?.MaxScore ?? 0, evt, requestId, exception, audit));
            switch (reply.Status)
            {
                case FinishStatus.Finished:
                    return new FinishResult(FinishOutcome.Done, await store.GetAsync(sessionId));
                case FinishStatus.AnswersChanged:
                    continue;
                case FinishStatus.AlreadyGranted:
                    return new FinishResult(FinishOutcome.AlreadyFinished, await store.GetAsync(sessionId));
                case FinishStatus.WrongState:
                    // The sweeper finds a finished session still in the deadline index only when its end was cut short
                    // after the state changed: its review lists may be missing it, so they are written again first.
                    if (mode == FinishMode.Expiry) await store.IndexForReviewAsync(sessionId);
                    return new FinishResult(mode == FinishMode.BoardException ? FinishOutcome.WrongState : FinishOutcome.AlreadyFinished, await store.GetAsync(sessionId));
                case FinishStatus.SequenceMismatch:
                    return new FinishResult(FinishOutcome.SequenceMismatch, session, reply.LastAcked);
                case FinishStatus.DeadlinePassed:
                    return new FinishResult(FinishOutcome.DeadlinePassed, session);
                case FinishStatus.TooEarly:
                    return new FinishResult(FinishOutcome.TooEarly, session);
                default:
                    return new FinishResult(FinishOutcome.Missing, null);
            }
        }
        throw new Vigil.ServiceDefaults.Errors.ConcurrentChangeException("The answers kept changing while the session was being finished; retry.");
    }
}
