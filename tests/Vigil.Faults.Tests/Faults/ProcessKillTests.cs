using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Faults.Tests.Infrastructure;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Faults.Tests.Faults;

/// <summary>SIGKILL of a session instance and of redis-server right after acknowledgements: every acknowledged save is there.</summary>
[Collection(FaultCollection.Name)]
public sealed class ProcessKillTests(FaultStack stack, ITestOutputHelper output) : IDisposable
{
    private const int Questions = 40;
    private readonly Journey _journey = new(stack);

    private static Answer Value(int i, int round = 0) => new() { Number = i + (round * 1000) };

    [Fact]
    public async Task Session_instance_killed_between_an_acknowledgement_and_the_next_heartbeat_loses_no_acknowledged_save()
    {
        await stack.HealAsync();
        var learner = (await _journey.StartedAsync(1, Questions))[0];
        // Straight to instance 0, so the test knows which process it kills.
        var stream = await ExamStreamClient.OpenAsync(_journey.Sessions(learner.Token, stack.SessionAddress(0)), learner.SessionId);
        var killAt = Questions / 2;
        var acked = new List<SaveAck>();
        for (var i = 0; i < Questions; i++)
        {
            await stream.SendHeartbeatAsync();
            acked.Add(await stream.SaveAsync(i + 1, $"n{i}", Value(i)));
            if (acked.Count == killAt)
            {
                // The acknowledgement is in; the next heartbeat never leaves.
                await stack.Sessions[0]!.KillAsync();
                break;
            }
        }
        var ended = await stream.Ended.WaitAsync(TimeSpan.FromSeconds(15));
        await stream.DisposeAsync();

        // The client reconnects to the other instance.
        var other = _journey.Sessions(learner.Token, stack.SessionAddress(1));
        await using var resumed = await ExamStreamClient.OpenAsync(other, learner.SessionId, acked[^1].Sequence);
        Assert.Equal(acked[^1].Sequence, resumed.Opened.LastAckedSequence);
        var session = await other.GetSessionAsync(new GetSessionRequest { SessionId = learner.SessionId });
        var found = CountFound(acked, session);
        // And the exam goes on from there.
        var next = await resumed.SaveAsync(acked[^1].Sequence + 1, $"n{killAt}", Value(killAt));
        Figures.Print(output, "session SIGKILL", $"saves acknowledged: {acked.Count}, saves found: {found}, stream ended with: {ended.StatusCode}, resumed at sequence {resumed.Opened.LastAckedSequence}, next save acknowledged: {next.Sequence}");
        Assert.Equal(acked.Count, found);

        await stack.StartSessionAsync(0);
        await stack.WaitSessionRoutedAsync(0);
    }

    /// <summary>
    /// Regression test of a bug this suite found: the gateway's health probes failed (HTTP/2 against the HTTP/1.1
    /// management ports), so a SIGKILLed replica kept getting calls while the client's stream held the other.
    /// </summary>
    [Fact]
    public async Task The_gateway_routes_around_a_SIGKILLed_session_instance()
    {
        await stack.HealAsync();
        var learner = (await _journey.StartedAsync(1, 2))[0];
        await using (var direct = await ExamStreamClient.OpenAsync(_journey.Sessions(learner.Token, stack.SessionAddress(0)), learner.SessionId))
        {
            await direct.SaveAsync(1, "n0", Value(0));
            await stack.Sessions[0]!.KillAsync();
        }
        // The client resumes through the gateway (retrying while it is refused), and keeps that stream open...
        await using var resumed = await OpenWithRetryAsync(learner, 1);
        // ...then asks for its session: the gateway must send the call to the surviving instance.
        var started = DateTime.UtcNow;
        var session = await RetryAsync(() => _journey.Sessions(learner.Token).GetSessionAsync(new GetSessionRequest { SessionId = learner.SessionId }).ResponseAsync, seconds: 20);
        Figures.Print(output, "gateway after session SIGKILL", $"the surviving instance answered through the gateway after {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
        Assert.Equal(learner.SessionId, session.Session.SessionId);
        await stack.StartSessionAsync(0);
        await stack.WaitSessionRoutedAsync(0);
    }

    [Fact]
    public async Task Redis_killed_right_after_acknowledgements_and_restarted_from_its_append_only_file_loses_nothing()
    {
        await stack.HealAsync();
        var learner = (await _journey.StartedAsync(1, Questions))[0];
        var stream = await ExamStreamClient.OpenAsync(_journey.Sessions(learner.Token), learner.SessionId);
        // Pipelined: every save in flight at once; Redis dies the instant the last acknowledgement arrives.
        for (var i = 0; i < Questions; i++)
        {
            await stream.SendHeartbeatAsync();
            await stream.SendSaveAsync(i + 1, $"n{i}", Value(i));
        }
        await stream.NextAsync(m => m.MessageCase == StreamExamResponse.MessageOneofCase.SaveAck && m.SaveAck.Sequence == Questions, TimeSpan.FromSeconds(20));
        await stack.Redis.KillAsync();
        var acked = stream.Acks.Values.OrderBy(a => a.Sequence).ToList();
        await stream.DisposeAsync();

        await stack.Redis.RestartAsync();
        var session = await RetryAsync(() => _journey.Sessions(learner.Token).GetSessionAsync(new GetSessionRequest { SessionId = learner.SessionId }).ResponseAsync);
        var found = CountFound(acked, session);
        Figures.Print(output, "redis-server SIGKILL + AOF restart", $"saves acknowledged: {acked.Count}, saves found: {found}, redis kills: {stack.Redis.Kills}");
        Assert.Equal(Questions, acked.Count);
        Assert.Equal(acked.Count, found);
        Assert.Equal(acked[^1].Sequence, session.Session.LastAckedSequence);

        // The exam goes on against the restarted Redis.
        await using var again = await OpenWithRetryAsync(learner, acked[^1].Sequence);
        var after = await again.SaveAsync(acked[^1].Sequence + 1, "n0", Value(0, round: 1));
        Assert.Equal(acked[^1].Sequence + 1, after.Sequence);
    }

    /// <summary>Acknowledged saves whose answer is stored with the same sequence and digest (or superseded by a later save).</summary>
    internal static int CountFound(IEnumerable<SaveAck> acked, GetSessionResponse session)
    {
        var stored = session.SavedAnswers.ToDictionary(a => a.QuestionId);
        return acked.Count(a => stored.TryGetValue(a.QuestionId, out var s)
            && (s.Sequence > a.Sequence || (s.Sequence == a.Sequence && s.AnswerDigest == a.AnswerDigest)));
    }

    private async Task<ExamStreamClient> OpenWithRetryAsync(StartedLearner learner, long lastAcked) =>
        await RetryAsync(() => ExamStreamClient.OpenAsync(_journey.Sessions(learner.Token), learner.SessionId, lastAcked));

    /// <summary>Retries while the call fails as a client would (Unavailable: the instance or a store is coming back).</summary>
    internal static Task<T> RetryAsync<T>(Func<Task<T>> call, int seconds = 90)
        where T : class =>
        Eventually.SucceedsAsync(call, "the call to succeed again", TimeSpan.FromSeconds(seconds),
            ex => ex is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.Internal or StatusCode.Cancelled });

    public void Dispose() => _journey.Dispose();
}
