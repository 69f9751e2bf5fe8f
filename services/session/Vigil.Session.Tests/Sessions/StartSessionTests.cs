using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Sessions;

/// <summary>StartSession: the verification first, the exam window, one session per learner and exam, identity unreachable.</summary>
[Collection(SessionCollection.Name)]
public sealed class StartSessionTests(SessionFixture f)
{
    [Fact]
    public async Task Start_is_refused_without_an_ID_document_photo()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var learner = await f.RegisteredLearnerAsync();
        await f.Journey.CompleteChecksAsync(learner, exam.ExamId);

        var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () => learner.StartAsync(exam.ExamId));
        var violations = RpcAssert.PreconditionViolations(ex);
        Assert.All(violations, v => Assert.Equal("VERIFICATION_INCOMPLETE", v.Type));
        Assert.Contains(violations, v => v.Subject == "verification/IdDocumentPhoto" && v.Description.Contains("ID document", StringComparison.Ordinal));
        Assert.Contains("ID document", ex.Status.Detail, StringComparison.Ordinal);

        // Once the photos are taken, the same learner may start.
        await f.Journey.UploadPhotosAsync(learner, exam.ExamId);
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
            e.WindowOpensAt = Timestamp.FromDateTimeOffset(f.Clock.GetUtcNow().AddDays(1));
            e.WindowClosesAt = Timestamp.FromDateTimeOffset(f.Clock.GetUtcNow().AddDays(2));
        });
        var early = await f.VerifiedLearnerAsync(closed.ExamId);
        var outside = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () => early.StartAsync(closed.ExamId));
        Assert.Equal("OUTSIDE_EXAM_WINDOW", RpcAssert.PreconditionViolations(outside).Single().Type);
    }

    [Fact]
    public async Task Identity_unreachable_means_Unavailable_never_a_false_may_start()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var closedPort = ServiceProcess.FreePort();
        await using var cutOff = f.Replica(identityHandler: () => new SocketsHttpHandler(), identityAddress: $"http://127.0.0.1:{closedPort}");

        await RpcAssert.ThrowsAsync(StatusCode.Unavailable, async () => await learner.Sessions(cutOff).StartSessionAsync(
            new StartSessionRequest { RequestId = Guid.NewGuid().ToString(), ExamId = exam.ExamId }));
        await RpcAssert.ThrowsAsync(StatusCode.Unavailable, async () => await f.Journey.Exams(TestTokens.Staff("s", exam.CourseId), cutOff)
            .CreateExamAsync(new CreateExamRequest { RequestId = Guid.NewGuid().ToString(), Exam = ExamBuilder.Standard(exam.CourseId, f.Clock.GetUtcNow()) }));

        // Nothing was held: with identity back, the same learner starts.
        Assert.Equal(SessionState.InProgress, (await learner.StartAsync(exam.ExamId)).State);
    }
}
