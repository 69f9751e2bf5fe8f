using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Review;

/// <summary>AcceptSavedAnswers: the board's documented exception after an expiry.</summary>
[Collection(SessionCollection.Name)]
public sealed class AcceptSavedAnswersTests(SessionFixture f)
{
    [Fact]
    public async Task The_board_may_accept_saved_answers_after_a_documented_failure_recorded_as_an_exception()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using (var stream = await learner.OpenStreamAsync(session.SessionId))
        {
            await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"));
        }
        f.Advance(exam.TimeLimit.ToTimeSpan() + SessionFixture.SweepInterval);
        await f.WaitForStateAsync(learner, session.SessionId, s => s == SessionState.ExpiredUnsubmitted);

        var board = f.Board(course, "prof-1");
        var missing = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await board.AcceptSavedAnswersAsync(
            new AcceptSavedAnswersRequest { RequestId = "x1", SessionId = session.SessionId }));
        Assert.Contains(RpcAssert.FieldViolations(missing), v => v.Field == "failure_reference");

        // The exception must cite the learner's problem report: a caller that sends none (every caller written before
        // reports existed) is refused naming the field, and so is one citing what is not a report of this session.
        var request = new AcceptSavedAnswersRequest
        {
            RequestId = "x2", SessionId = session.SessionId, Reason = "Platform outage during the last 10 minutes", FailureReference = "INC-4711",
        };
        var uncited = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await board.AcceptSavedAnswersAsync(request));
        Assert.Equal(("PROBLEM_REPORT_REQUIRED", "problem_report_id"), Assert.Single(RpcAssert.PreconditionViolations(uncited)) is var u ? (u.Type, u.Subject) : default);
        Assert.Contains("problem_report_id", uncited.Status.Detail);
        request.ProblemReportId = "inc-404";
        var wrong = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await board.AcceptSavedAnswersAsync(request));
        Assert.Equal(("PROBLEM_REPORT_NOT_FOUND", "problem_report_id"), Assert.Single(RpcAssert.PreconditionViolations(wrong)) is var w ? (w.Type, w.Subject) : default);
        Assert.Equal(SessionState.ExpiredUnsubmitted, (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record.Session.State);

        var report = await learner.ReportProblemAsync(session.SessionId, "The page froze before I could run the final check.");
        request.ProblemReportId = report.ReportId;
        var accepted = await board.AcceptSavedAnswersAsync(request);
        Assert.Equal(report.ReportId, accepted.Exception.ProblemReportId);
        Assert.Equal(SessionState.SubmittedByException, accepted.Session.State);
        Assert.Equal("prof-1", accepted.Exception.GrantedBy);
        Assert.Equal("INC-4711", accepted.Exception.FailureReference);
        Assert.Equal(SessionState.SubmittedByException, accepted.Receipt.State);
        Assert.True(accepted.Receipt.Items[0].Ticked);
        Assert.Equal(accepted.Receipt, (await board.AcceptSavedAnswersAsync(request)).Receipt);

        var e = Assert.Single(await f.Events.WaitAsync("SessionSubmitted", session.SessionId)).Message;
        Assert.Contains(SessionFixture.EnumText(e.GetProperty("kind")), new[] { "BoardException", "3" });
        var record = (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
        Assert.Equal("Platform outage during the last 10 minutes", record.Exception.Reason);
        Assert.Equal(report.ReportId, record.Exception.ProblemReportId);
        Assert.Single(await f.Events.WaitAsync("SessionExpired", session.SessionId));

        // A submitted session is no candidate for the exception.
        var other = await f.CreateExamAsync(course);
        var l2 = await f.VerifiedLearnerAsync(other.ExamId);
        var s2 = await l2.StartAsync(other.ExamId);
        await l2.Sessions().SubmitFinalCheckAsync(new SubmitFinalCheckRequest { RequestId = "fc", SessionId = s2.SessionId, LastSaveSequence = 0 });
        await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await board.AcceptSavedAnswersAsync(
            new AcceptSavedAnswersRequest { RequestId = "x3", SessionId = s2.SessionId, Reason = "r", FailureReference = "f", ProblemReportId = "inc-1" }));
    }
}
