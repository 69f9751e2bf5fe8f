using Grpc.Core;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Integration;

/// <summary>What happens when the identity service or the broker is away, and with tokens that expire mid-stream.</summary>
[Collection(SessionCollection.Name)]
public sealed class DependencyTests(SessionFixture f)
{
    [Fact]
    public async Task Identity_unreachable_means_Unavailable_never_a_false_may_start()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var closedPort = ServiceProcess.FreePort();
        await using var cutOff = new SessionHost(f.KeyPrefix, () => new SocketsHttpHandler(), $"http://127.0.0.1:{closedPort}");

        await RpcAssert.ThrowsAsync(StatusCode.Unavailable, async () => await learner.Sessions(cutOff).StartSessionAsync(
            new StartSessionRequest { RequestId = Guid.NewGuid().ToString(), ExamId = exam.ExamId }));
        await RpcAssert.ThrowsAsync(StatusCode.Unavailable, async () => await new ExamService.ExamServiceClient(cutOff.Channel(TestTokens.Staff("s", exam.CourseId)))
            .CreateExamAsync(new CreateExamRequest { RequestId = Guid.NewGuid().ToString(), Exam = ExamSamples.Build(exam.CourseId) }));

        // Nothing was held: with identity back, the same learner starts.
        Assert.Equal(SessionState.InProgress, (await learner.StartAsync(exam.ExamId)).State);
    }

    [Fact]
    public async Task Events_wait_in_the_outbox_while_the_broker_is_unreachable_and_are_published_later()
    {
        // A deployment of its own (key space) whose only replica cannot reach RabbitMQ.
        var prefix = "test-session-nobroker-" + Guid.NewGuid().ToString("N")[..8] + ":";
        var deadBroker = $"amqp://guest:guest@127.0.0.1:{ServiceProcess.FreePort()}/session";
        string sessionId;
        var course = SessionFixture.NewCourse();
        await using (var isolated = new SessionHost(prefix, f.Identity.CreateHandler, rabbitMq: deadBroker))
        {
            var exam = (await new ExamService.ExamServiceClient(isolated.Channel(TestTokens.Staff("s", course)))
                .CreateExamAsync(new CreateExamRequest { RequestId = "c", Exam = ExamSamples.Build(course) })).Exam;
            var learner = await f.VerifiedLearnerAsync(exam.ExamId);
            sessionId = (await learner.StartAsync(exam.ExamId, isolated)).SessionId;
            var receipt = (await learner.Sessions(isolated).SubmitFinalCheckAsync(
                new SubmitFinalCheckRequest { RequestId = "fc", SessionId = sessionId, LastSaveSequence = 0 })).Receipt;
            Assert.Equal(SessionState.Submitted, receipt.State);

            await Task.Delay(1000);
            await using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
            Assert.Equal(1, await redis.GetDatabase().ListLengthAsync(prefix + "s:{" + sessionId + "}:outbox"));
            Assert.Empty(f.Events.Of("SessionSubmitted", sessionId));
        }

        // A replica that reaches the broker relays it.
        await using var healthy = new SessionHost(prefix, f.Identity.CreateHandler);
        _ = healthy.Server;
        Assert.Single(await f.Events.WaitAsync("SessionSubmitted", sessionId));
    }

    [Fact]
    public async Task A_token_expiring_mid_stream_does_not_cut_the_open_stream()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var verified = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await verified.StartAsync(exam.ExamId);
        // Valid for about two more seconds (expired 28 s ago, 30 s of clock skew tolerated).
        var shortLived = TestTokens.Custom(verified.Id, ["learner"], lifetime: TimeSpan.FromHours(1), now: DateTimeOffset.UtcNow - TimeSpan.FromHours(1) - TimeSpan.FromSeconds(28));
        var learner = verified with { Token = shortLived };
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        Assert.Equal(SaveOutcome.Stored, (await stream.SaveAsync(1, "q1", ExamSamples.Choice("b"))).SaveAck.Outcome);
        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.Equal(SaveOutcome.Stored, (await stream.SaveAsync(2, "q2", ExamSamples.Text("Paris"))).SaveAck.Outcome);
        await stream.HeartbeatAsync();
        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, async () => await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId }));
    }
}
