using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Exams;

/// <summary>ResetAttempt: one attempt by default; a reset lets the learner start again, the old attempt kept, marked and seen by the board.</summary>
[Collection(SessionCollection.Name)]
public sealed class ResetAttemptTests(SessionFixture f)
{
    [Fact]
    public async Task A_reset_attempt_is_kept_and_marked_and_the_learner_may_start_a_new_one_once()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var staff = f.Exams(course);
        var first = await learner.StartAsync(exam.ExamId);
        var request = new ResetAttemptRequest { RequestId = "r1", ExamId = exam.ExamId, LearnerId = learner.Id, Reason = "fire alarm in the building" };

        // One attempt by default: a running attempt is not reset, and a second start is refused (the limit is reached).
        var running = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await staff.ResetAttemptAsync(request));
        Assert.Equal("SESSION_IN_PROGRESS", Assert.Single(RpcAssert.PreconditionViolations(running)).Type);
        await f.Journey.SubmitAsync(learner, first.SessionId, 0);
        var again = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await learner.StartAsync(exam.ExamId));
        Assert.Equal("ATTEMPTS_EXHAUSTED", Assert.Single(RpcAssert.PreconditionViolations(again)).Type);

        var reset = await staff.ResetAttemptAsync(request);
        Assert.Equal((first.SessionId, "staff-1"), (reset.SessionId, reset.ResetBy));
        Assert.Equal(f.Clock.GetUtcNow().ToUnixTimeMilliseconds(), reset.ResetAt.ToDateTimeOffset().ToUnixTimeMilliseconds());
        Assert.Equal(reset, await staff.ResetAttemptAsync(request));

        // A new attempt: a new session; the old one is kept as it was, marked, and the board sees it.
        var second = await learner.StartAsync(exam.ExamId);
        Assert.NotEqual(first.SessionId, second.SessionId);
        Assert.Equal((SessionState.InProgress, 2), (second.State, second.Attempt));
        var old = (await f.Board(course).GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = first.SessionId })).Record;
        Assert.Equal((SessionState.Submitted, "staff-1", "fire alarm in the building", reset.ResetAt), (old.Session.State, old.Session.ResetBy, old.Session.ResetReason, old.Session.ResetAt));
        Assert.Null((await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = second.SessionId })).Session.ResetAt);
        var mine = await learner.Sessions().ListMySessionsAsync(new ListMySessionsRequest());
        Assert.Equal(new[] { first.SessionId, second.SessionId }.Order(), mine.Sessions.Select(s => s.Session.SessionId).Order());

        // The retry named the same attempt and recorded nothing more: one entry on the trail.
        var entries = (await f.Board(course).ListAuditEntriesAsync(new ListAuditEntriesRequest { CourseId = course, Kinds = { AuditActionKind.AttemptReset } })).Entries;
        var entry = Assert.Single(entries);
        Assert.Equal(("staff-1", first.SessionId, string.Empty), (entry.Actor, entry.SessionId, entry.LearnerId));
        Assert.DoesNotContain("fire", entry.Summary, StringComparison.Ordinal);

        // The new attempt runs: another reset request is refused until it ends; a third start is refused.
        var busy = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await staff.ResetAttemptAsync(
            new ResetAttemptRequest { RequestId = "r2", ExamId = exam.ExamId, LearnerId = learner.Id, Reason = "again" }));
        Assert.Equal("SESSION_IN_PROGRESS", Assert.Single(RpcAssert.PreconditionViolations(busy)).Type);
    }

    [Fact]
    public async Task A_reset_needs_an_attempt_a_reason_and_the_courses_staff()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        await RpcAssert.ThrowsAsync(StatusCode.NotFound, async () => await f.Exams(course).ResetAttemptAsync(
            new ResetAttemptRequest { RequestId = "r", ExamId = exam.ExamId, LearnerId = learner.Id, Reason = "r" }));
        var bad = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await f.Exams(course).ResetAttemptAsync(
            new ResetAttemptRequest { ExamId = exam.ExamId, LearnerId = learner.Id }));
        Assert.Equal(["reason", "request_id"], RpcAssert.FieldViolations(bad).Select(v => v.Field).Order());
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await f.Journey.Exams(TestTokens.Staff("staff-9", SessionFixture.NewCourse())).ResetAttemptAsync(
            new ResetAttemptRequest { RequestId = "r", ExamId = exam.ExamId, LearnerId = learner.Id, Reason = "r" }));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await f.Journey.Exams(learner.Token).ResetAttemptAsync(
            new ResetAttemptRequest { RequestId = "r", ExamId = exam.ExamId, LearnerId = learner.Id, Reason = "r" }));
    }
}
