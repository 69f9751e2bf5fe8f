using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Review;

/// <summary>RequestSecondLook and GetDecisionHistory: a second look instead of a decision, closed by another member's decision; every version kept.</summary>
[Collection(SessionCollection.Name)]
public sealed class SecondLookTests(SessionFixture f)
{
    [Fact]
    public async Task A_second_look_is_listed_until_another_member_decides_the_member_who_asked_is_refused()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var started = await f.Journey.StartedAsync(exam);
        await f.Journey.SubmitAsync(started.Learner, started.SessionId, 0);
        var first = f.Board(course, "prof-1");
        var second = f.Board(course, "prof-2");
        await f.Journey.AwaitReviewableAsync(TestTokens.Board("prof-1", course), course, started.SessionId);

        var request = new RequestSecondLookRequest { RequestId = "sl-1", SessionId = started.SessionId, Notes = "The ID photo is blurred; someone else should look." };
        var look = (await first.RequestSecondLookAsync(request)).SecondLook;
        Assert.Equal(("prof-1", "The ID photo is blurred; someone else should look.", 0L, string.Empty), (look.RequestedBy, look.Notes, look.RequestedAtVersion, look.ClosedBy));
        Assert.Equal(look, (await first.RequestSecondLookAsync(request)).SecondLook);

        var listed = Assert.Single((await first.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, Filter = ReviewFilter.SecondLook })).Sessions);
        Assert.Equal((started.SessionId, "prof-1"), (listed.Session.SessionId, listed.SecondLook.RequestedBy));
        // Still awaiting a decision: a second look is no decision.
        Assert.Single((await first.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, Filter = ReviewFilter.AwaitingDecision })).Sessions);

        // The member who asked may neither decide nor ask again while it is open.
        var same = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await first.RecordDecisionAsync(
            new RecordDecisionRequest { RequestId = "d-1", SessionId = started.SessionId, Outcome = DecisionOutcome.Valid }));
        Assert.Equal("SECOND_LOOK_NEEDS_ANOTHER_MEMBER", Assert.Single(RpcAssert.PreconditionViolations(same)).Type);
        var open = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await second.RequestSecondLookAsync(
            new RequestSecondLookRequest { RequestId = "sl-2", SessionId = started.SessionId }));
        Assert.Equal("SECOND_LOOK_OPEN", Assert.Single(RpcAssert.PreconditionViolations(open)).Type);
        Assert.Contains("prof-1", open.Status.Detail);
        Assert.Empty((await first.GetDecisionHistoryAsync(new GetDecisionHistoryRequest { SessionId = started.SessionId })).Decisions);

        // Another member's decision closes it.
        var decision = (await second.RecordDecisionAsync(new RecordDecisionRequest { RequestId = "d-2", SessionId = started.SessionId, Outcome = DecisionOutcome.Valid, Notes = "Photo is fine at full size." })).Decision;
        Assert.Equal((1L, "prof-2"), (decision.Version, decision.DecidedBy));
        Assert.Empty((await first.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, Filter = ReviewFilter.SecondLook })).Sessions);
        var record = (await first.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = started.SessionId })).Record;
        var closed = Assert.Single(record.SecondLooks);
        Assert.Equal(("prof-1", "prof-2", 1L, decision.DecidedAt), (closed.RequestedBy, closed.ClosedBy, closed.ClosedByVersion, closed.ClosedAt));

        // Now the first member may decide again (a new version), and a new second look may be asked and closed.
        var refused = (await first.RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = "d-3", SessionId = started.SessionId, Outcome = DecisionOutcome.Withdrawn, Reason = RefusalReason.IdentityMismatch, Notes = "Compared with the registry.", ExpectedVersion = 1,
        })).Decision;
        f.Advance(TimeSpan.FromMinutes(1));
        var again = (await second.RequestSecondLookAsync(new RequestSecondLookRequest { RequestId = "sl-3", SessionId = started.SessionId, Notes = "Appeal received." })).SecondLook;
        Assert.Equal(2L, again.RequestedAtVersion);
        Assert.Equal(started.SessionId, Assert.Single((await first.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, Filter = ReviewFilter.SecondLook })).Sessions).Session.SessionId);
        await first.RecordDecisionAsync(new RecordDecisionRequest { RequestId = "d-4", SessionId = started.SessionId, Outcome = DecisionOutcome.Refused, Reason = RefusalReason.IdentityMismatch, ExpectedVersion = 2 });

        // The history: every version with who, when and why, and both second looks, oldest first.
        var history = await second.GetDecisionHistoryAsync(new GetDecisionHistoryRequest { SessionId = started.SessionId });
        Assert.Equal([(1L, "prof-2", DecisionOutcome.Valid, "Photo is fine at full size."), (2L, "prof-1", DecisionOutcome.Withdrawn, "Compared with the registry."), (3L, "prof-1", DecisionOutcome.Refused, "")],
            history.Decisions.Select(d => (d.Version, d.DecidedBy, d.Outcome, d.Notes)).ToList());
        Assert.Equal(refused.DecidedAt, history.Decisions[1].DecidedAt);
        Assert.Equal([("prof-1", "prof-2", 1L), ("prof-2", "prof-1", 3L)], history.SecondLooks.Select(l => (l.RequestedBy, l.ClosedBy, l.ClosedByVersion)).ToList());
    }

    [Fact]
    public async Task A_second_look_needs_a_finished_session_and_a_board_seat_of_the_course()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var started = await f.Journey.StartedAsync(exam);
        var running = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await f.Board(course).RequestSecondLookAsync(
            new RequestSecondLookRequest { RequestId = "sl", SessionId = started.SessionId }));
        Assert.Equal("SESSION_IN_PROGRESS", Assert.Single(RpcAssert.PreconditionViolations(running)).Type);
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await f.Board(SessionFixture.NewCourse()).RequestSecondLookAsync(
            new RequestSecondLookRequest { RequestId = "sl", SessionId = started.SessionId }));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await f.Board(SessionFixture.NewCourse()).GetDecisionHistoryAsync(
            new GetDecisionHistoryRequest { SessionId = started.SessionId }));
        var tooLong = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await f.Board(course).RequestSecondLookAsync(
            new RequestSecondLookRequest { RequestId = "sl", SessionId = started.SessionId, Notes = new string('n', 4001) }));
        Assert.Equal("notes", Assert.Single(RpcAssert.FieldViolations(tooLong)).Field);
    }
}
