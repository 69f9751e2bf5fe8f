using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Answers;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Integration;

[Collection(SessionCollection.Name)]
public sealed class StartAndSaveTests(SessionFixture f)
{
    [Fact]
    public async Task Start_is_refused_without_an_ID_document_photo()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var learner = await f.RegisteredLearnerAsync();
        await f.Identity.CompleteVerificationAsync(learner, exam.ExamId, withIdPhoto: false);

        var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () => learner.StartAsync(exam.ExamId));
        var violations = RpcAssert.PreconditionViolations(ex);
        Assert.All(violations, v => Assert.Equal("VERIFICATION_INCOMPLETE", v.Type));
        Assert.Contains(violations, v => v.Subject == "verification/IdDocumentPhoto" && v.Description.Contains("ID document", StringComparison.Ordinal));
        Assert.Contains("ID document", ex.Status.Detail, StringComparison.Ordinal);

        // Once the photos are taken, the same learner may start.
        await f.Identity.UploadPhotosAsync(learner, exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        Assert.Equal(SessionState.InProgress, session.State);
    }

    [Fact]
    public async Task Start_returns_the_deadline_and_rules_once_and_refuses_a_second_session_and_outside_the_window()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course, e => e.Rules = new ExamRules { CalculatorAllowed = true });
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var request = new StartSessionRequest { RequestId = Guid.NewGuid().ToString(), ExamId = exam.ExamId };
        var started = await learner.Sessions().StartSessionAsync(request);
        Assert.True(started.Session.Rules.CalculatorAllowed);
        Assert.False(started.Session.Rules.HeadphonesAllowed);
        var span = started.Session.Deadline.ToDateTimeOffset() - started.Session.StartedAt.ToDateTimeOffset();
        Assert.Equal(TimeSpan.FromMinutes(30), span);
        Assert.All(started.Questions, q => Assert.Null(q.AnswerKey));

        // A retry of the same start returns the same session; another start is refused with the session's id.
        var retry = await learner.Sessions(f.ReplicaB).StartSessionAsync(request);
        Assert.Equal(started.Session.SessionId, retry.Session.SessionId);
        var again = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () => learner.StartAsync(exam.ExamId));
        Assert.Equal("sessions/" + started.Session.SessionId, RpcAssert.PreconditionViolations(again).Single().Subject);

        var closed = await f.CreateExamAsync(course, e =>
        {
            e.WindowOpensAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1));
            e.WindowClosesAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(2));
        });
        var early = await f.VerifiedLearnerAsync(closed.ExamId);
        var outside = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () => early.StartAsync(closed.ExamId));
        Assert.Equal("OUTSIDE_EXAM_WINDOW", RpcAssert.PreconditionViolations(outside).Single().Type);
    }

    [Fact]
    public async Task Extra_time_extends_the_deadline()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        await f.Exams(course).GrantExtraTimeAsync(new GrantExtraTimeRequest
        {
            RequestId = "x", ExamId = exam.ExamId, LearnerId = learner.Id, ExtraTime = Duration.FromTimeSpan(TimeSpan.FromMinutes(10)), Reason = "accommodation",
        });
        var session = await learner.StartAsync(exam.ExamId);
        Assert.Equal(TimeSpan.FromMinutes(40), session.Deadline.ToDateTimeOffset() - session.StartedAt.ToDateTimeOffset());

        // A grant during the session replaces the earlier one and moves the running session's deadline.
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        Assert.True((await stream.HeartbeatAsync()).TimeLeft.ToTimeSpan() <= TimeSpan.FromMinutes(40));
        await f.Exams(course).GrantExtraTimeAsync(new GrantExtraTimeRequest
        {
            RequestId = "y", ExamId = exam.ExamId, LearnerId = learner.Id, ExtraTime = Duration.FromTimeSpan(TimeSpan.FromMinutes(20)), Reason = "technical delay",
        });
        Assert.True((await stream.HeartbeatAsync()).TimeLeft.ToTimeSpan() > TimeSpan.FromMinutes(49));
        var read = await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId });
        Assert.Equal(TimeSpan.FromMinutes(50), read.Session.Deadline.ToDateTimeOffset() - read.Session.StartedAt.ToDateTimeOffset());
    }

    [Fact]
    public async Task Saves_are_acknowledged_and_read_back()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        Assert.Equal(0, stream.Opened.LastAckedSequence);

        var answers = new (string Q, Answer A)[] { ("q1", ExamSamples.Choice("b")), ("q2", ExamSamples.Text("Paris")), ("q3", ExamSamples.Number(42)) };
        for (var i = 0; i < answers.Length; i++)
        {
            var r = await stream.SaveAsync(i + 1, answers[i].Q, answers[i].A);
            Assert.Equal(SaveOutcome.Stored, r.SaveAck.Outcome);
            Assert.Equal(AnswerRules.Digest(answers[i].A), r.SaveAck.AnswerDigest);
        }
        var rejected = await stream.SaveAsync(4, "q1", ExamSamples.Choice("zz"));
        Assert.Equal(SaveRejection.InvalidAnswer, rejected.SaveRejected.Reason);
        var unknown = await stream.SaveAsync(5, "nope", ExamSamples.Text("x"));
        Assert.Equal(SaveRejection.UnknownQuestion, unknown.SaveRejected.Reason);

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

        Assert.Equal(SaveOutcome.Stored, (await stream.SaveAsync(1, "q2", ExamSamples.Text("Lyon"))).SaveAck.Outcome);
        Assert.Equal(SaveOutcome.Stored, (await stream.SaveAsync(2, "q2", ExamSamples.Text("Paris"))).SaveAck.Outcome);
        var resent = await stream.SaveAsync(2, "q2", ExamSamples.Text("Paris"));
        Assert.Equal(SaveOutcome.Duplicate, resent.SaveAck.Outcome);
        var stale = await stream.SaveAsync(1, "q2", ExamSamples.Text("Lyon"));
        Assert.Equal(SaveOutcome.Stale, stale.SaveAck.Outcome);
        Assert.Equal(AnswerRules.Digest(ExamSamples.Text("Paris")), stale.SaveAck.AnswerDigest);

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
    public async Task Exams_are_for_their_course_staff_and_bad_definitions_get_field_violations()
    {
        var course = SessionFixture.NewCourse();
        var exam = ExamSamples.Build(course);
        exam.Title = "";
        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await f.Exams(course).CreateExamAsync(new CreateExamRequest { RequestId = "r1", Exam = exam }));
        Assert.Contains(RpcAssert.FieldViolations(ex), v => v.Field == "exam.title");

        var other = new ExamService.ExamServiceClient(f.ReplicaA.Channel(TestTokens.Staff("staff-2", "another-course")));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await other.CreateExamAsync(new CreateExamRequest { RequestId = "r2", Exam = ExamSamples.Build(course) }));

        var created = await f.CreateExamAsync(course);
        Assert.Equal(1, created.Version);
        var update = created.Clone();
        update.Title = "Renamed";
        var updated = await f.Exams(course).UpdateExamAsync(new UpdateExamRequest { RequestId = "u1", Exam = update, ExpectedVersion = 1 });
        Assert.Equal(2, updated.Exam.Version);
        await RpcAssert.ThrowsAsync(StatusCode.Aborted, async () => await f.Exams(course).UpdateExamAsync(new UpdateExamRequest { RequestId = "u2", Exam = update, ExpectedVersion = 1 }));
        var listed = await f.Exams(course).ListExamsAsync(new ListExamsRequest { CourseId = course });
        Assert.Equal("Renamed", Assert.Single(listed.Exams).Title);
    }
}
