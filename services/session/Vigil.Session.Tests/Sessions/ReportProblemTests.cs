using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Sessions;

/// <summary>ReportProblem: the learner's technical problem on the session's timeline, during the exam and for the window after it.</summary>
[Collection(SessionCollection.Name)]
public sealed class ReportProblemTests(SessionFixture f)
{
    [Fact]
    public async Task A_report_during_the_exam_lands_on_the_timeline_once_and_the_review_list_filters_on_it()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        var quiet = await f.VerifiedLearnerAsync(exam.ExamId);
        var quietSession = await quiet.StartAsync(exam.ExamId);

        var report = await learner.ReportProblemAsync(session.SessionId, "The screen went black for two minutes.", requestId: "rp-1");
        Assert.Equal((session.SessionId, "The screen went black for two minutes.", false), (report.SessionId, report.Description, report.AfterEnd));
        Assert.StartsWith("inc-", report.ReportId);
        // A retry of the same request records nothing more and returns the same report.
        Assert.Equal(report, await learner.ReportProblemAsync(session.SessionId, "The screen went black for two minutes.", requestId: "rp-1"));

        await learner.Sessions().SubmitFinalCheckAsync(new SubmitFinalCheckRequest { RequestId = "fc", SessionId = session.SessionId });
        await quiet.Sessions().SubmitFinalCheckAsync(new SubmitFinalCheckRequest { RequestId = "fc", SessionId = quietSession.SessionId });

        var board = f.Board(course);
        var record = (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
        var incident = Assert.Single(record.Incidents);
        Assert.Equal((report.ReportId, IncidentKind.ProblemReported, "The screen went black for two minutes.", report.ReportedAt, report.ReportedAt),
            (incident.IncidentId, incident.Kind, incident.Details, incident.StartedAt, incident.EndedAt));

        var listed = await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, Filter = ReviewFilter.WithProblemReport });
        var line = Assert.Single(listed.Sessions);
        Assert.Equal((session.SessionId, 1, 1), (line.Session.SessionId, line.ProblemReportCount, line.IncidentCount));
        var all = await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course });
        Assert.Equal(2, all.Sessions.Count);
    }

    [Fact]
    public async Task After_the_end_a_report_is_taken_until_the_window_closes_then_refused_saying_when_it_closed()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        f.Advance(exam.TimeLimit.ToTimeSpan() + SessionFixture.SweepInterval);
        var expired = await f.WaitForStateAsync(learner, session.SessionId, s => s == SessionState.ExpiredUnsubmitted);
        var board = f.Board(course);
        await f.Journey.AwaitReviewableAsync(TestTokens.Board("board-1", course), course, session.SessionId);
        Assert.Empty((await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, Filter = ReviewFilter.WithProblemReport })).Sessions);

        // Inside the window (24 h after the end by default): recorded, after the end, and the finished session joins the list.
        f.Advance(TimeSpan.FromHours(23));
        var late = await learner.ReportProblemAsync(session.SessionId, "My connection dropped and the final check never came back.");
        Assert.True(late.AfterEnd);
        var listed = await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, Filter = ReviewFilter.WithProblemReport });
        Assert.Equal(session.SessionId, Assert.Single(listed.Sessions).Session.SessionId);
        var withIncidents = await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, Filter = ReviewFilter.WithIncidents });
        Assert.Equal(session.SessionId, Assert.Single(withIncidents.Sessions).Session.SessionId);

        // Past the window: FailedPrecondition naming when it closed.
        f.Advance(TimeSpan.FromHours(2));
        var closed = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () => learner.ReportProblemAsync(session.SessionId, "Still broken."));
        var violation = Assert.Single(RpcAssert.PreconditionViolations(closed));
        Assert.Equal(("PROBLEM_REPORT_WINDOW_CLOSED", "sessions/" + session.SessionId), (violation.Type, violation.Subject));
        Assert.Contains("closed at", closed.Status.Detail);
        Assert.Single((await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record.Incidents);
        Assert.Equal(SessionState.ExpiredUnsubmitted, expired.Session.State);
    }

    [Fact]
    public async Task Bad_reports_are_refused_precisely_an_empty_or_too_long_description_or_someone_elses_session()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        var other = await f.RegisteredLearnerAsync();

        var tooLong = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, () => learner.ReportProblemAsync(session.SessionId, new string('x', 2001)));
        var v = Assert.Single(RpcAssert.FieldViolations(tooLong));
        Assert.Equal("description", v.Field);
        Assert.Contains("2000", v.Description);
        Assert.Contains("2001", v.Description);
        var empty = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, () => learner.ReportProblemAsync(session.SessionId, "  "));
        Assert.Equal("description", Assert.Single(RpcAssert.FieldViolations(empty)).Field);
        // The longest allowed description is taken.
        Assert.Equal(2000, (await learner.ReportProblemAsync(session.SessionId, new string('y', 2000))).Description.Length);

        // Someone else's session and a session that does not exist: the same refusal, nothing recorded.
        var foreign = await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, () => other.ReportProblemAsync(session.SessionId, "Not mine."));
        var ghost = await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, () => other.ReportProblemAsync("ses-" + Guid.NewGuid().ToString("N"), "Not mine."));
        Assert.Equal(foreign.Status.Detail, ghost.Status.Detail);
        var board = f.Board(course);
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await f.Journey.Sessions(TestTokens.Board("board-1", course)).ReportProblemAsync(
            new ReportProblemRequest { RequestId = "b", SessionId = session.SessionId, Description = "The board does not report for a learner." }));
        await learner.Sessions().SubmitFinalCheckAsync(new SubmitFinalCheckRequest { RequestId = "fc", SessionId = session.SessionId });
        var record = (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
        Assert.Equal(new string('y', 2000), Assert.Single(record.Incidents).Details);
    }
}
