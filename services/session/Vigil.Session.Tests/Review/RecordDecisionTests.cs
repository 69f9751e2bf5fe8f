using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Review;

/// <summary>The board's review: ListSessionsForReview, GetSessionRecord, GetReviewPhoto and RecordDecision.</summary>
[Collection(SessionCollection.Name)]
public sealed class RecordDecisionTests(SessionFixture f)
{
    [Fact]
    public async Task The_board_reviews_decides_and_every_decision_reaches_the_broker()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using (var stream = await learner.OpenStreamAsync(session.SessionId))
        {
            await stream.HeartbeatAsync(audio: AudioOutput.Headphones);
            await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"));
            await stream.SaveAsync(2, "q2", TestAnswers.Text("paris"));
        }
        await learner.Sessions().SubmitFinalCheckAsync(new SubmitFinalCheckRequest { RequestId = "fc", SessionId = session.SessionId, LastSaveSequence = 2 });

        // Only the board of the course.
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await f.Board("another-course").GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId }));
        var asLearner = f.Journey.Board(learner.Token);
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await asLearner.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course }));

        var board = f.Board(course, "prof-1");
        var list = await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, AwaitingDecisionOnly = true });
        var summary = Assert.Single(list.Sessions);
        Assert.Equal(session.SessionId, summary.Session.SessionId);
        Assert.Equal(3, summary.Score);
        Assert.Equal(1, summary.IncidentCount);

        var record = (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
        Assert.True(record.IdDocumentPhotoAccepted);
        Assert.True(record.FacePhotoAccepted);
        Assert.Equal([2.0, 1.0, 0.0], record.Answers.Select(a => a.PointsAwarded));
        Assert.Equal([true, true, false], record.Answers.Select(a => a.AutoMarked));
        Assert.Equal(IncidentKind.Headphones, Assert.Single(record.Incidents).Kind);
        Assert.NotNull(record.Receipt);
        var photo = await board.GetReviewPhotoAsync(new GetReviewPhotoRequest { SessionId = session.SessionId, Kind = ReviewPhotoKind.IdDocument });
        Assert.Equal("image/jpeg", photo.ContentType);
        Assert.True(photo.Data.Length > 1000);
        Assert.Equal(0xFF, photo.Data[0]);

        var valid = new RecordDecisionRequest { RequestId = "d1", SessionId = session.SessionId, Outcome = DecisionOutcome.Valid, ExpectedVersion = 0 };
        var v1 = (await board.RecordDecisionAsync(valid)).Decision;
        Assert.Equal(1, v1.Version);
        Assert.Equal("prof-1", v1.DecidedBy);
        Assert.Equal(v1, (await board.RecordDecisionAsync(valid)).Decision);
        await RpcAssert.ThrowsAsync(StatusCode.Aborted, async () => await board.RecordDecisionAsync(
            new RecordDecisionRequest { RequestId = "d-stale", SessionId = session.SessionId, Outcome = DecisionOutcome.Refused, Reason = RefusalReason.Headphones, ExpectedVersion = 0 }));
        var noReason = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await board.RecordDecisionAsync(
            new RecordDecisionRequest { RequestId = "d-x", SessionId = session.SessionId, Outcome = DecisionOutcome.Refused, ExpectedVersion = 1 }));
        Assert.Contains(RpcAssert.FieldViolations(noReason), v => v.Field == "reason");

        var withdrawn = (await f.Board(course, "prof-2", f.ReplicaB).RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = "d2", SessionId = session.SessionId, Outcome = DecisionOutcome.Withdrawn, Reason = RefusalReason.Headphones,
            Notes = "Headphones visible on camera.", ExpectedVersion = 1,
        })).Decision;
        Assert.Equal(2, withdrawn.Version);
        await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await board.RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = "d3", SessionId = session.SessionId, Outcome = DecisionOutcome.Withdrawn, Reason = RefusalReason.Internet, ExpectedVersion = 2,
        }));

        var events = await f.Events.WaitAsync("BoardDecisionRecorded", session.SessionId, 2);
        Assert.Equal([1L, 2L], events.Select(e => e.Message.GetProperty("version").GetInt64()).Order());
        var second = events.Single(e => e.Message.GetProperty("version").GetInt64() == 2).Message;
        Assert.Equal("REFUSAL_REASON_HEADPHONES", second.GetProperty("reasonCode").GetString());
        Assert.Contains("Headphones visible on camera.", second.GetProperty("reasonText").GetString(), StringComparison.Ordinal);
        Assert.Equal("prof-2", second.GetProperty("decidedBy").GetString());

        var after = await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, AwaitingDecisionOnly = true });
        Assert.Empty(after.Sessions);
        var all = await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course });
        Assert.Equal(2, Assert.Single(all.Sessions).LatestDecision.Version);
        var final = (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
        Assert.Equal([1L, 2L], final.Decisions.Select(d => d.Version));
    }
}
