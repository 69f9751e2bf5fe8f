using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Outbox;

/// <summary>The outbox relay: events wait while the broker is unreachable and any replica publishes them later.</summary>
[Collection(SessionCollection.Name)]
public sealed class OutboxRelayTests(SessionFixture f)
{
    [Fact]
    public async Task Events_wait_in_the_outbox_while_the_broker_is_unreachable_and_are_published_later()
    {
        // A deployment of its own (key space) whose only replica cannot reach RabbitMQ.
        var prefix = "test-session-nobroker-" + Guid.NewGuid().ToString("N")[..8] + ":";
        var deadBroker = $"amqp://guest:guest@127.0.0.1:{ServiceProcess.FreePort()}/session";
        string sessionId;
        var course = SessionFixture.NewCourse();
        await using (var isolated = f.Replica(prefix, rabbitMq: deadBroker))
        {
            var exam = (await f.Journey.Exams(TestTokens.Staff("s", course), isolated)
                .CreateExamAsync(new CreateExamRequest { RequestId = "c", Exam = ExamBuilder.Standard(course, f.Clock.GetUtcNow()) })).Exam;
            var learner = await f.VerifiedLearnerAsync(exam.ExamId);
            sessionId = (await learner.StartAsync(exam.ExamId, isolated)).SessionId;
            var receipt = (await learner.Sessions(isolated).SubmitFinalCheckAsync(
                new SubmitFinalCheckRequest { RequestId = "fc", SessionId = sessionId, LastSaveSequence = 0 })).Receipt;
            Assert.Equal(SessionState.Submitted, receipt.State);

            // Written with the submission in one step; this replica's relay waits for a broker it never reaches.
            await using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
            Assert.Equal(1, await redis.GetDatabase().ListLengthAsync(prefix + "s:{" + sessionId + "}:outbox"));
            Assert.Empty(f.Events.Of("SessionSubmitted", sessionId));
        }

        // A replica that reaches the broker relays it (its first pass at start, then at each poll).
        await using var healthy = f.Replica(prefix);
        _ = healthy.Server;
        Assert.Single(await f.Events.WaitAsync("SessionSubmitted", sessionId));
    }
}
