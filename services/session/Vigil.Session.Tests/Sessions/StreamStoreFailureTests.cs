using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Sessions;

/// <summary>
/// The exam day degrades, never drops: a store call of the exam stream that times out for real (Redis paused with
/// <c>CLIENT PAUSE … WRITE</c> for longer than the replica's short Redis timeout) answers THAT message with RetryLater
/// and the stream stays open; the resend is acknowledged and nothing is lost.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class StreamStoreFailureTests(SessionFixture f)
{
    [Fact]
    public async Task A_store_timeout_answers_that_message_with_RetryLater_the_stream_stays_open_and_the_resend_is_acknowledged()
    {
        // A replica whose Redis calls time out after 300 ms (the fixture's keep the 5 s default).
        await using var replica = f.Replica();
        replica.With("Redis:Configuration", TestEnvironment.Redis + ",asyncTimeout=300,syncTimeout=300")
            .With("Session:StoreRetryAfter", "00:00:00.250");
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId, via: replica);
        Assert.Equal(SaveOutcome.Stored, (await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"))).Outcome);

        await using var admin = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis + ",allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        await server.ExecuteAsync("CLIENT", "PAUSE", "60000", "WRITE");
        StreamExamResponse saveReply, laterReply, heartbeatReply;
        try
        {
            saveReply = await stream.SaveOnceAsync(2, "q2", TestAnswers.Text("Paris"));
            // Save 3 comes while save 2 waits for its resend: kept behind it (no store call), also RetryLater.
            laterReply = await stream.SaveOnceAsync(3, "q3", TestAnswers.Number(42));
            heartbeatReply = await stream.HeartbeatOnceAsync();
        }
        finally
        {
            await server.ExecuteAsync("CLIENT", "UNPAUSE");
        }

        Assert.Equal(StreamExamResponse.MessageOneofCase.Retry, saveReply.MessageCase);
        Assert.Equal(RetryTarget.Save, saveReply.Retry.Target);
        Assert.Equal(2, saveReply.Retry.Sequence);
        Assert.Equal("q2", saveReply.Retry.QuestionId);
        Assert.Equal(TimeSpan.FromMilliseconds(250), saveReply.Retry.RetryAfter.ToTimeSpan());
        Assert.Equal(StreamExamResponse.MessageOneofCase.Retry, laterReply.MessageCase);
        Assert.Equal(3, laterReply.Retry.Sequence);
        Assert.Contains("Save 2", laterReply.Retry.Reason, StringComparison.Ordinal);
        Assert.Equal(StreamExamResponse.MessageOneofCase.Retry, heartbeatReply.MessageCase);
        Assert.Equal(RetryTarget.Heartbeat, heartbeatReply.Retry.Target);
        Assert.Equal(3, stream.Retries.Count);
        Assert.False(stream.Ended.IsCompleted, "the stream ended on a store timeout");

        // The resends, in order, on the same stream: acknowledged (save 2 may have reached Redis when it was unpaused:
        // then its resend is a duplicate), and a heartbeat is answered again.
        var ack2 = await stream.SaveAsync(2, "q2", TestAnswers.Text("Paris"));
        Assert.Contains(ack2.Outcome, new[] { SaveOutcome.Stored, SaveOutcome.Duplicate });
        Assert.Equal(SaveOutcome.Stored, (await stream.SaveAsync(3, "q3", TestAnswers.Number(42))).Outcome);
        await stream.HeartbeatAsync();
        Assert.False(stream.Ended.IsCompleted);

        var read = await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId });
        Assert.Equal(3, read.Session.LastAckedSequence);
        Assert.Equal(["q1", "q2", "q3"], read.SavedAnswers.Select(a => a.QuestionId));
    }
}
