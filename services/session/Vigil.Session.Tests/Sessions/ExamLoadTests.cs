using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Sessions;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Sessions;

/// <summary>
/// Overload push-back: a replica at its open-stream limit, or with its store-call budget in flight, refuses a NEW
/// stream early with UNAVAILABLE, a RetryInfo and the grpc-retry-pushback-ms trailer, while the open streams keep saving.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class ExamLoadTests(SessionFixture f)
{
    [Fact]
    public async Task A_replica_at_its_stream_limit_refuses_a_new_stream_with_a_retry_hint_while_the_open_one_keeps_saving()
    {
        await using var replica = f.Replica();
        replica.With("Session:MaxOpenStreams", "1").With("Session:OverloadRetryAfter", "00:00:03");
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var first = await f.VerifiedLearnerAsync(exam.ExamId);
        var second = await f.VerifiedLearnerAsync(exam.ExamId);
        var firstSession = await first.StartAsync(exam.ExamId);
        var secondSession = await second.StartAsync(exam.ExamId);
        var open = await first.OpenStreamAsync(firstSession.SessionId, via: replica);
        Assert.Equal(SaveOutcome.Stored, (await open.SaveAsync(1, "q1", TestAnswers.Choice("b"))).Outcome);

        var refused = await RpcAssert.ThrowsAsync(StatusCode.Unavailable, () => second.OpenStreamAsync(secondSession.SessionId, via: replica));
        Assert.Equal(TimeSpan.FromSeconds(3), RetryBackoff.Hint(refused));
        Assert.Equal("3000", refused.Trailers.GetValue(RetryBackoff.PushbackTrailer));
        var wait = RetryBackoff.After(refused, 1);
        Assert.InRange(wait, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4.5));

        // The open stream is served as before.
        Assert.Equal(SaveOutcome.Stored, (await open.SaveAsync(2, "q2", TestAnswers.Text("Paris"))).Outcome);
        await open.HeartbeatAsync();
        Assert.Equal(1, replica.Services.GetRequiredService<ExamLoad>().OpenStreams);

        // Once it closes, the refused learner gets in.
        await open.DisposeAsync();
        await using var admitted = await Eventually.SucceedsAsync(() => second.OpenStreamAsync(secondSession.SessionId, via: replica),
            "the second stream admitted once the first closed", retryOn: Eventually.Transient);
        Assert.Equal(SaveOutcome.Stored, (await admitted.SaveAsync(1, "q1", TestAnswers.Choice("a"))).Outcome);
    }

    [Fact]
    public async Task A_replica_with_its_store_call_budget_in_flight_refuses_a_new_stream_and_acknowledges_the_open_one_when_the_store_answers()
    {
        await using var replica = f.Replica();
        // The paused save stays in flight (a long Redis timeout) while the new stream is refused.
        replica.With("Session:StoreCallBudget", "1").With("Redis:Configuration", TestEnvironment.Redis + ",asyncTimeout=30000");
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var first = await f.VerifiedLearnerAsync(exam.ExamId);
        var second = await f.VerifiedLearnerAsync(exam.ExamId);
        var firstSession = await first.StartAsync(exam.ExamId);
        var secondSession = await second.StartAsync(exam.ExamId);
        await using var open = await first.OpenStreamAsync(firstSession.SessionId, via: replica);
        var load = replica.Services.GetRequiredService<ExamLoad>();

        await using var admin = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis + ",allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        await server.ExecuteAsync("CLIENT", "PAUSE", "60000", "WRITE");
        RpcException refused;
        try
        {
            await open.SendSaveAsync(1, "q1", TestAnswers.Choice("b"));
            await Eventually.True(() => load.StoreCallsInFlight == 1, "the save's store call in flight");
            Assert.True(load.Pressure >= 1);
            refused = await RpcAssert.ThrowsAsync(StatusCode.Unavailable, () => second.OpenStreamAsync(secondSession.SessionId, via: replica));
        }
        finally
        {
            await server.ExecuteAsync("CLIENT", "UNPAUSE");
        }
        Assert.NotNull(RetryBackoff.Hint(refused));
        var ack = await open.NextAsync(r => r.MessageCase == StreamExamResponse.MessageOneofCase.SaveAck && r.SaveAck.Sequence == 1);
        Assert.Equal(SaveOutcome.Stored, ack.SaveAck.Outcome);
        Assert.Equal(0, load.StoreCallsInFlight);
        await using var admitted = await second.OpenStreamAsync(secondSession.SessionId, via: replica);
        Assert.Equal(SaveOutcome.Stored, (await admitted.SaveAsync(1, "q1", TestAnswers.Choice("a"))).Outcome);
    }

    [Fact]
    public async Task The_heartbeat_reply_sets_the_pace_the_exam_interval_when_idle_and_wider_under_load()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse(), e =>
        {
            e.HeartbeatInterval = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(4));
            e.ConnectionLostAfter = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(40));
        });
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using (var idle = await learner.OpenStreamAsync(session.SessionId))
        {
            Assert.Equal(TimeSpan.FromSeconds(4), (await idle.HeartbeatAsync()).NextHeartbeatAfter.ToTimeSpan());
        }

        // A replica whose one open stream is its whole limit: pressure 1, the widest pace (half the 40 s gap), and saves
        // are answered as ever.
        await using var replica = f.Replica();
        replica.With("Session:MaxOpenStreams", "1");
        await using var loaded = await learner.OpenStreamAsync(session.SessionId, via: replica);
        Assert.Equal(TimeSpan.FromSeconds(20), (await loaded.HeartbeatAsync()).NextHeartbeatAfter.ToTimeSpan());
        Assert.Equal(SaveOutcome.Stored, (await loaded.SaveAsync(1, "q1", TestAnswers.Choice("b"))).Outcome);
    }
}
