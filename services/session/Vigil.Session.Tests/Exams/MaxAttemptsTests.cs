using System.Globalization;
using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Exams;

/// <summary>
/// Attempts per exam as a rule (Exam.max_attempts, default 1): a new attempt starts only once the previous one ended,
/// not beyond the limit (ATTEMPTS_EXHAUSTED with used and limit), a reset gives one back, concurrent starts never
/// exceed it, and every attempt carries its number for the learner, the board and the export.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class MaxAttemptsTests(SessionFixture f)
{
    private static StartSessionRequest Start(string examId) => new() { RequestId = Journey.RequestId(), ExamId = examId };

    private static async Task<RpcException> ExhaustedAsync(TestLearner learner, string examId, int used, int limit)
    {
        var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await learner.Sessions().StartSessionAsync(Start(examId)));
        var violation = Assert.Single(RpcAssert.PreconditionViolations(ex));
        Assert.Equal(("ATTEMPTS_EXHAUSTED", "exams/" + examId), (violation.Type, violation.Subject));
        var info = RpcAssert.ErrorMetadata(ex);
        Assert.Equal((2, used.ToString(CultureInfo.InvariantCulture), limit.ToString(CultureInfo.InvariantCulture)), (info.Count, info["used"], info["limit"]));
        Assert.Equal("ATTEMPTS_EXHAUSTED", RpcAssert.ErrorReason(ex));
        return ex;
    }

    [Fact]
    public async Task One_attempt_by_default_and_raising_the_limit_lets_the_next_one_start()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        Assert.Equal(1, exam.MaxAttempts);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var first = await learner.StartAsync(exam.ExamId);
        Assert.Equal(1, first.Attempt);
        await f.Journey.SubmitAsync(learner, first.SessionId, 0);

        var ex = await ExhaustedAsync(learner, exam.ExamId, used: 1, limit: 1);
        Assert.Contains("1 of the 1 attempt", ex.Status.Detail, StringComparison.Ordinal);

        // The staff raise the limit (UpdateExam, on the audit trail as any change): a second attempt starts.
        var update = exam.Clone();
        update.MaxAttempts = 2;
        await f.Exams(course).UpdateExamAsync(new UpdateExamRequest { RequestId = "u1", Exam = update, ExpectedVersion = exam.Version });
        var second = await learner.StartAsync(exam.ExamId);
        Assert.Equal((2, SessionState.InProgress), (second.Attempt, second.State));
    }

    [Fact]
    public async Task Three_attempts_one_after_the_other_numbered_then_refused_and_a_reset_gives_one_back()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course, e => e.MaxAttempts = 3);
        Assert.Equal(3, exam.MaxAttempts);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var ids = new List<string>();
        for (var n = 1; n <= 3; n++)
        {
            var s = await learner.StartAsync(exam.ExamId);
            Assert.Equal(n, s.Attempt);
            ids.Add(s.SessionId);
            // While it runs, no other attempt starts (today's rule, kept).
            var running = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await learner.Sessions().StartSessionAsync(Start(exam.ExamId)));
            Assert.Equal(("SESSION_ALREADY_STARTED", "sessions/" + s.SessionId), (Assert.Single(RpcAssert.PreconditionViolations(running)).Type, RpcAssert.PreconditionViolations(running)[0].Subject));
            await f.Journey.SubmitAsync(learner, s.SessionId, 0);
            f.Advance(TimeSpan.FromSeconds(1));
        }
        await ExhaustedAsync(learner, exam.ExamId, used: 3, limit: 3);

        // The learner's list and the board see the numbers.
        var mine = await learner.Sessions().ListMySessionsAsync(new ListMySessionsRequest());
        Assert.Equal([3, 2, 1], mine.Sessions.Select(s => s.Session.Attempt));
        var board = await f.Board(course).ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course });
        Assert.Equal(ids.Select((id, i) => (id, i + 1)), board.Sessions.Select(s => (s.Session.SessionId, s.Session.Attempt)).OrderBy(x => x.Attempt));
        Assert.Equal(2, (await f.Board(course).GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = ids[1] })).Record.Session.Attempt);

        // A reset gives one attempt back: the fourth starts (numbered 4), then the limit holds again.
        await f.Exams(course).ResetAttemptAsync(new ResetAttemptRequest { RequestId = "r1", ExamId = exam.ExamId, LearnerId = learner.Id, Reason = "power cut" });
        var fourth = await learner.StartAsync(exam.ExamId);
        Assert.Equal(4, fourth.Attempt);
        await f.Journey.SubmitAsync(learner, fourth.SessionId, 0);
        await ExhaustedAsync(learner, exam.ExamId, used: 3, limit: 3);

        // The export has every attempt with its number.
        var results = new CourseResultsService.CourseResultsServiceClient(f.Journey.Invoker(TestTokens.Staff("staff-1", course)));
        using var export = results.ExportResults(new ExportResultsRequest { RequestId = "x1", CourseId = course });
        var rows = new List<ResultRow>();
        await foreach (var page in export.ResponseStream.ReadAllAsync()) rows.AddRange(page.Rows);
        Assert.Equal([1, 2, 3, 4], rows.Select(r => r.Attempt).Order());
    }

    [Fact]
    public async Task Concurrent_starts_never_exceed_the_limit()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course, e => e.MaxAttempts = 2);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var first = await learner.StartAsync(exam.ExamId);
        await f.Journey.SubmitAsync(learner, first.SessionId, 0);
        f.Advance(TimeSpan.FromSeconds(1));

        // Eight starts at once, half on each replica: one new attempt, whoever gets it.
        async Task<(StatusCode Code, string SessionId)> TryStartAsync(int i)
        {
            try
            {
                var r = await learner.Sessions(i % 2 == 0 ? f.ReplicaA : f.ReplicaB).StartSessionAsync(Start(exam.ExamId));
                return (StatusCode.OK, r.Session.SessionId);
            }
            catch (RpcException ex)
            {
                Assert.True(ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.Aborted, ex.Status.ToString());
                if (ex.StatusCode == StatusCode.FailedPrecondition) Assert.Equal("SESSION_ALREADY_STARTED", RpcAssert.PreconditionViolations(ex)[0].Type);
                return (ex.StatusCode, string.Empty);
            }
        }
        var round1 = await Task.WhenAll(Enumerable.Range(0, 8).Select(TryStartAsync));
        var second = Assert.Single(round1.Where(r => r.Code == StatusCode.OK).Select(r => r.SessionId).Distinct());
        await f.Journey.SubmitAsync(learner, second, 0);

        var round2 = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await learner.Sessions(i % 2 == 0 ? f.ReplicaA : f.ReplicaB).StartSessionAsync(Start(exam.ExamId)));
            return RpcAssert.PreconditionViolations(ex)[0].Type;
        }));
        Assert.All(round2, t => Assert.Equal("ATTEMPTS_EXHAUSTED", t));
        var mine = await learner.Sessions().ListMySessionsAsync(new ListMySessionsRequest());
        Assert.Equal([(second, 2), (first.SessionId, 1)], mine.Sessions.Select(s => (s.Session.SessionId, s.Session.Attempt)));
    }

    [Fact]
    public async Task A_limit_outside_1_to_10_is_refused_on_the_field()
    {
        var course = SessionFixture.NewCourse();
        foreach (var bad in new[] { -1, 11 })
        {
            var exam = ExamBuilder.Standard(course, f.Clock.GetUtcNow());
            exam.MaxAttempts = bad;
            var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await f.Exams(course).CreateExamAsync(new CreateExamRequest { RequestId = Journey.RequestId(), Exam = exam }));
            Assert.Equal("exam.max_attempts", Assert.Single(RpcAssert.FieldViolations(ex)).Field);
        }
        var created = await f.CreateExamAsync(course, e => e.MaxAttempts = 10);
        var update = created.Clone();
        update.MaxAttempts = 12;
        var refused = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await f.Exams(course).UpdateExamAsync(new UpdateExamRequest { RequestId = "u", Exam = update, ExpectedVersion = created.Version }));
        Assert.Equal("exam.max_attempts", Assert.Single(RpcAssert.FieldViolations(refused)).Field);
    }
}
