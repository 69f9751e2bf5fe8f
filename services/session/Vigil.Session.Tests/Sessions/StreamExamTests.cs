using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Answers;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Sessions;

/// <summary>StreamExam: saves and their acknowledgements, resends, reconnection to another replica, rule signals and warnings, tokens expiring mid-stream.</summary>
[Collection(SessionCollection.Name)]
public sealed class StreamExamTests(SessionFixture f)
{
    [Fact]
    public async Task Saves_are_acknowledged_and_read_back()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        Assert.Equal(0, stream.Opened.LastAckedSequence);

        var answers = new (string Q, Answer A)[] { ("q1", TestAnswers.Choice("b")), ("q2", TestAnswers.Text("Paris")), ("q3", TestAnswers.Number(42)) };
        for (var i = 0; i < answers.Length; i++)
        {
            var r = await stream.SaveAsync(i + 1, answers[i].Q, answers[i].A);
            Assert.Equal(SaveOutcome.Stored, r.Outcome);
            Assert.Equal(AnswerRules.Digest(answers[i].A), r.AnswerDigest);
        }
        var rejected = await stream.SaveRejectedAsync(4, "q1", TestAnswers.Choice("zz"));
        Assert.Equal(SaveRejection.InvalidAnswer, rejected.Reason);
        var unknown = await stream.SaveRejectedAsync(5, "nope", TestAnswers.Text("x"));
        Assert.Equal(SaveRejection.UnknownQuestion, unknown.Reason);

        var read = await learner.Sessions(f.ReplicaB).GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId });
        Assert.Equal(3, read.Session.LastAckedSequence);
        Assert.Equal(["q1", "q2", "q3"], read.SavedAnswers.Select(a => a.QuestionId));
        Assert.Equal(answers.Select(a => a.A), read.SavedAnswers.Select(a => a.Answer));
        Assert.Equal([1L, 2L, 3L], read.SavedAnswers.Select(a => a.Sequence));
    }

    [Fact]
    public async Task A_resent_save_is_stored_once_and_an_older_save_never_overwrites_a_newer_one()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);

        Assert.Equal(SaveOutcome.Stored, (await stream.SaveAsync(1, "q2", TestAnswers.Text("Lyon"))).Outcome);
        Assert.Equal(SaveOutcome.Stored, (await stream.SaveAsync(2, "q2", TestAnswers.Text("Paris"))).Outcome);
        var resent = await stream.SaveAsync(2, "q2", TestAnswers.Text("Paris"));
        Assert.Equal(SaveOutcome.Duplicate, resent.Outcome);
        var stale = await stream.SaveAsync(1, "q2", TestAnswers.Text("Lyon"));
        Assert.Equal(SaveOutcome.Stale, stale.Outcome);
        Assert.Equal(AnswerRules.Digest(TestAnswers.Text("Paris")), stale.AnswerDigest);

        var read = await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId });
        var q2 = Assert.Single(read.SavedAnswers);
        Assert.Equal("Paris", q2.Answer.Text);
        Assert.Equal(2, q2.Sequence);
    }

    [Fact]
    public async Task Another_learner_cannot_open_the_stream_or_read_the_session()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var owner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await owner.StartAsync(exam.ExamId);
        var other = await f.RegisteredLearnerAsync();

        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, () => other.OpenStreamAsync(session.SessionId));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await other.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId }));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await other.Sessions().SubmitFinalCheckAsync(
            new SubmitFinalCheckRequest { RequestId = "r", SessionId = session.SessionId, LastSaveSequence = 0 }));
    }

    [Fact]
    public async Task A_dropped_client_reconnects_to_another_replica_and_resumes_from_the_last_acknowledged_save()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);

        var first = await learner.OpenStreamAsync(session.SessionId, 0, f.ReplicaA);
        await first.SaveAsync(1, "q1", TestAnswers.Choice("a"));
        await first.SaveAsync(2, "q2", TestAnswers.Text("Paris"));
        first.Drop();

        await using var second = await learner.OpenStreamAsync(session.SessionId, 2, f.ReplicaB);
        Assert.Equal(2, second.Opened.LastAckedSequence);
        Assert.Equal(SessionState.InProgress, second.Opened.State);
        // The client resends what it is unsure of: stored once; then goes on.
        Assert.Equal(SaveOutcome.Duplicate, (await second.SaveAsync(2, "q2", TestAnswers.Text("Paris"))).Outcome);
        Assert.Equal(SaveOutcome.Stored, (await second.SaveAsync(3, "q1", TestAnswers.Choice("b"))).Outcome);

        var receipt = (await learner.Sessions(f.ReplicaB).SubmitFinalCheckAsync(
            new SubmitFinalCheckRequest { RequestId = "fc", SessionId = session.SessionId, LastSaveSequence = 3 })).Receipt;
        Assert.Equal(3, receipt.Items[0].Sequence);
        Assert.Equal(2, receipt.Items[1].Sequence);
    }

    [Fact]
    public async Task Headphones_where_not_allowed_and_rule_signals_become_warnings_and_incidents()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);

        await stream.HeartbeatAsync(audio: AudioOutput.Headphones, focused: false);
        await stream.HeartbeatAsync(audio: AudioOutput.Headphones, focused: false);
        await stream.HeartbeatAsync();
        Assert.Single(stream.Warnings, w => w.Code == WarningCode.HeadphonesNotAllowed);
        Assert.Single(stream.Warnings, w => w.Code == WarningCode.FocusLost);

        var record = (await f.Board(course).GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
        var headphones = Assert.Single(record.Incidents, i => i.Kind == IncidentKind.Headphones);
        Assert.NotNull(headphones.EndedAt);
        Assert.Single(record.Incidents, i => i.Kind == IncidentKind.FocusLost);

        // Where the course allows headphones, they are no incident.
        var allowed = await f.CreateExamAsync(course, e => e.Rules = new ExamRules { HeadphonesAllowed = true });
        var other = await f.VerifiedLearnerAsync(allowed.ExamId);
        var s2 = await other.StartAsync(allowed.ExamId);
        await using var stream2 = await other.OpenStreamAsync(s2.SessionId);
        await stream2.HeartbeatAsync(audio: AudioOutput.Headphones);
        await stream2.HeartbeatAsync(audio: AudioOutput.Headphones);
        Assert.Empty(stream2.Warnings);
    }

    [Fact]
    public async Task Near_the_deadline_unvalidated_answers_bring_a_warning()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse(), e => e.WarnBeforeDeadline = Duration.FromTimeSpan(TimeSpan.FromHours(1)));
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        await stream.HeartbeatAsync();
        Assert.Empty(stream.Warnings);
        await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"));
        await stream.HeartbeatAsync();
        var w = Assert.Single(stream.Warnings);
        Assert.Equal(WarningCode.UnvalidatedAnswers, w.Code);
        Assert.Contains("final check", w.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_expiring_mid_stream_does_not_cut_the_open_stream()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var verified = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await verified.StartAsync(exam.ExamId);
        // Valid for about two more seconds (expired 28 s ago, 30 s of clock skew tolerated). Token lifetimes are
        // checked on the real clock by the JWT handler, not on the service's: the test waits for the refusal itself.
        var shortLived = TestTokens.Custom(verified.Id, ["learner"], lifetime: TimeSpan.FromHours(1), now: DateTimeOffset.UtcNow - TimeSpan.FromHours(1) - TimeSpan.FromSeconds(28));
        var learner = verified with { Token = shortLived };
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        Assert.Equal(SaveOutcome.Stored, (await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"))).Outcome);
        await Eventually.FailsWithAsync(StatusCode.Unauthenticated, () => learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId }).ResponseAsync,
            "the short-lived token to be refused on a new call");

        // The stream opened while it was valid goes on.
        Assert.Equal(SaveOutcome.Stored, (await stream.SaveAsync(2, "q2", TestAnswers.Text("Paris"))).Outcome);
        await stream.HeartbeatAsync();
    }
}
