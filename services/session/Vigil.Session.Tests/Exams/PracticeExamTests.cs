using Grpc.Core;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Exams;

/// <summary>
/// Practice exams (ExamKind PRACTICE): their sessions run, are final-checked and get receipts, but publish nothing the
/// certificate service consumes (no outbox entry is ever written), the board records no decision on them, and the
/// results export marks their rows; a certification exam's sessions, side by side, publish as before.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class PracticeExamTests(SessionFixture f)
{
    [Fact]
    public async Task A_practice_exams_final_check_and_expiry_publish_nothing_while_a_certification_exams_do()
    {
        var course = SessionFixture.NewCourse();
        var practice = await f.CreateExamAsync(course, e => e.Kind = ExamKind.Practice);
        var certification = await f.CreateExamAsync(course);
        Assert.Equal((ExamKind.Practice, ExamKind.Certification), (practice.Kind, certification.Kind));
        var ada = await f.VerifiedLearnerAsync(practice.ExamId);
        await f.Journey.VerifyAsync(ada, certification.ExamId);
        var sam = await f.VerifiedLearnerAsync(practice.ExamId);
        await f.Journey.VerifyAsync(sam, certification.ExamId);

        // Ada final-checks both exams: both get their receipt.
        var adaPractice = await ada.StartAsync(practice.ExamId);
        var adaCertification = await ada.StartAsync(certification.ExamId);
        Assert.Equal(SessionState.Submitted, (await f.Journey.SubmitAsync(ada, adaPractice.SessionId, 0)).State);
        Assert.Equal(SessionState.Submitted, (await f.Journey.SubmitAsync(ada, adaCertification.SessionId, 0)).State);
        Assert.Equal(adaPractice.SessionId, (await ada.Sessions().GetReceiptAsync(new GetReceiptRequest { SessionId = adaPractice.SessionId })).Receipt.SessionId);

        // Sam lets the time run out on both.
        var samPractice = await sam.StartAsync(practice.ExamId);
        var samCertification = await sam.StartAsync(certification.ExamId);
        f.Advance(certification.TimeLimit.ToTimeSpan() + SessionFixture.SweepInterval);
        await f.SweepNowAsync();
        Assert.Equal(SessionState.ExpiredUnsubmitted, (await f.WaitForStateAsync(sam, samPractice.SessionId, s => s != SessionState.InProgress)).Session.State);
        Assert.Equal(SessionState.ExpiredUnsubmitted, (await f.WaitForStateAsync(sam, samCertification.SessionId, s => s != SessionState.InProgress)).Session.State);

        // The certification exam's events reach the certificate service's exchanges (the probe is bound to each of them)...
        Assert.Single(await f.Events.WaitAsync("SessionSubmitted", adaCertification.SessionId));
        Assert.Single(await f.Events.WaitAsync("SessionExpired", samCertification.SessionId));
        // ...the practice exam's were never written to an outbox, so nothing of them can ever be published.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        foreach (var id in new[] { adaPractice.SessionId, samPractice.SessionId })
        {
            Assert.False(await redis.GetDatabase().KeyExistsAsync(f.KeyPrefix + "s:{" + id + "}:outbox"));
            Assert.DoesNotContain(f.Events.All, e => e.SessionId == id);
        }

        // The board records no decision on a practice session; on the certification one it does.
        var refused = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await f.Board(course).RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = "d1", SessionId = adaPractice.SessionId, Outcome = DecisionOutcome.Valid,
        }));
        Assert.Equal(("PRACTICE_SESSION", "sessions/" + adaPractice.SessionId), (Assert.Single(RpcAssert.PreconditionViolations(refused)).Type, RpcAssert.PreconditionViolations(refused)[0].Subject));
        await f.Board(course).RecordDecisionAsync(new RecordDecisionRequest { RequestId = "d2", SessionId = adaCertification.SessionId, Outcome = DecisionOutcome.Valid });
        Assert.Single(await f.Events.WaitAsync("BoardDecisionRecorded", adaCertification.SessionId));
        Assert.DoesNotContain(f.Events.All, e => e.SessionId == adaPractice.SessionId);

        // The board's list: every finished session is there, but a practice session never awaits a decision.
        async Task<List<string>> ListAsync(ReviewFilter filter)
        {
            var listed = await f.Board(course).ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, Filter = filter, PageSize = 50 });
            return [.. listed.Sessions.Select(x => x.Session.SessionId)];
        }
        var all = await ListAsync(ReviewFilter.Unspecified);
        Assert.Contains(adaPractice.SessionId, all);
        Assert.Contains(samPractice.SessionId, all);
        var awaiting = await ListAsync(ReviewFilter.AwaitingDecision);
        Assert.Contains(samCertification.SessionId, awaiting);
        Assert.DoesNotContain(adaPractice.SessionId, awaiting);
        Assert.DoesNotContain(samPractice.SessionId, awaiting);

        // The export shows each row's kind.
        var results = new CourseResultsService.CourseResultsServiceClient(f.Journey.Invoker(TestTokens.Staff("staff-1", course)));
        using var export = results.ExportResults(new ExportResultsRequest { RequestId = "x1", CourseId = course });
        var rows = new Dictionary<string, ExamKind>();
        await foreach (var page in export.ResponseStream.ReadAllAsync())
        {
            foreach (var row in page.Rows) rows[row.SessionId] = row.ExamKind;
        }
        Assert.Equal(
            new[] { (adaPractice.SessionId, ExamKind.Practice), (samPractice.SessionId, ExamKind.Practice), (adaCertification.SessionId, ExamKind.Certification), (samCertification.SessionId, ExamKind.Certification) }.Order(),
            rows.Select(r => (r.Key, r.Value)).Order());
    }

    [Fact]
    public async Task The_kind_is_set_at_the_creation_and_kept_by_updates()
    {
        var course = SessionFixture.NewCourse();
        var practice = await f.CreateExamAsync(course, e => e.Kind = ExamKind.Practice);
        var update = practice.Clone();
        update.Kind = ExamKind.Certification;
        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await f.Exams(course).UpdateExamAsync(
            new UpdateExamRequest { RequestId = "u1", Exam = update, ExpectedVersion = practice.Version }));
        Assert.Equal("exam.kind", Assert.Single(RpcAssert.FieldViolations(ex)).Field);

        // An update that does not say (an older client) keeps it.
        update.Kind = ExamKind.Unspecified;
        update.Title = "Renamed";
        var updated = (await f.Exams(course).UpdateExamAsync(new UpdateExamRequest { RequestId = "u2", Exam = update, ExpectedVersion = practice.Version })).Exam;
        Assert.Equal((ExamKind.Practice, "Renamed"), (updated.Kind, updated.Title));

        var unknown = ExamBuilder.Standard(course, f.Clock.GetUtcNow());
        unknown.Kind = (ExamKind)7;
        var bad = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await f.Exams(course).CreateExamAsync(new CreateExamRequest { RequestId = "c", Exam = unknown }));
        Assert.Equal("exam.kind", Assert.Single(RpcAssert.FieldViolations(bad)).Field);
    }
}
