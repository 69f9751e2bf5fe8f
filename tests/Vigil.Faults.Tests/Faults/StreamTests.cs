using System.Collections.Concurrent;
using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Faults.Tests.Infrastructure;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Faults.Tests.Faults;

/// <summary>Exam streams through the gateway: idle past its timeouts, and across a rolling restart of the session instances.</summary>
[Collection(FaultCollection.Name)]
public sealed class StreamTests(FaultStack stack, ITestOutputHelper output) : IDisposable
{
    private readonly Journey _journey = new(stack);

    /// <summary>What a client may do when a stream ends this way: reconnect and resume. Anything else ends the exam for it.</summary>
    internal static bool Recoverable(Status status) =>
        status.StatusCode is StatusCode.OK or StatusCode.Unavailable or StatusCode.Cancelled or StatusCode.Aborted or StatusCode.DeadlineExceeded;

    [Fact]
    public async Task A_stream_idle_through_the_gateway_longer_than_its_timeouts_the_exam_goes_on()
    {
        await stack.HealAsync();
        var learner = (await _journey.StartedAsync(1, 4))[0];
        // Through the second gateway, whose activity timeout is short enough to idle past.
        var viaShortGateway = _journey.Sessions(learner.Token, stack.ShortTimeoutGateway.GrpcAddress);
        var stream = await ExamStreamClient.OpenAsync(viaShortGateway, learner.SessionId);
        var first = await stream.SaveAsync(1, "n0", new Answer { Number = 0 });
        var idle = FaultStack.ShortGatewayActivityTimeout * 3;
        // Idle: nothing sent for three activity timeouts, unless the stream ends first.
        try
        {
            await stream.Ended.WaitAsync(idle);
        }
        catch (TimeoutException)
        {
            // Still open after the idle time.
        }

        // Either the stream is still up, or it ended with a status the client recovers from by reconnecting.
        string outcome;
        SaveAck next;
        if (!stream.Ended.IsCompleted)
        {
            try
            {
                next = await stream.SaveAsync(2, "n1", new Answer { Number = 1 }, TimeSpan.FromSeconds(5));
                outcome = "stream stayed open";
            }
            catch (RpcException ex)
            {
                Assert.True(Recoverable(ex.Status), $"The idle stream ended with {ex.Status}, which a client cannot recover from.");
                outcome = $"stream ended on the next write with {ex.StatusCode}; resumed";
                next = await ResumeAndSaveAsync(viaShortGateway, learner, first.Sequence);
            }
        }
        else
        {
            var status = await stream.Ended;
            Assert.True(Recoverable(status), $"The idle stream ended with {status}, which a client cannot recover from.");
            outcome = $"stream ended while idle with {status.StatusCode}; resumed";
            next = await ResumeAndSaveAsync(viaShortGateway, learner, first.Sequence);
        }
        await stream.DisposeAsync();
        var session = await _journey.Sessions(learner.Token).GetSessionAsync(new GetSessionRequest { SessionId = learner.SessionId });
        Figures.Print(output, "idle stream through the gateway", $"idle {idle.TotalSeconds:0} s (gateway activity timeout {FaultStack.ShortGatewayActivityTimeout.TotalSeconds:0} s): {outcome}; saves acknowledged: 2, saves found: {ProcessKillTests.CountFound([first, next], session)}, state: {session.Session.State}");
        Assert.Equal(SessionState.InProgress, session.Session.State);
        Assert.Equal(2, ProcessKillTests.CountFound([first, next], session));
    }

    private static async Task<SaveAck> ResumeAndSaveAsync(SessionService.SessionServiceClient client, StartedLearner learner, long lastAcked)
    {
        await using var again = await ExamStreamClient.OpenAsync(client, learner.SessionId, lastAcked);
        Assert.Equal(lastAcked, again.Opened.LastAckedSequence);
        return await again.SaveAsync(again.Opened.LastAckedSequence + 1, "n1", new Answer { Number = 1 });
    }

    [Fact]
    public async Task A_rolling_restart_of_the_session_instances_under_load_ends_no_stream_unrecoverably_and_loses_nothing()
    {
        await stack.HealAsync();
        const int Questions = 30;
        var learners = await _journey.StartedAsync(6, Questions);
        using var stop = new CancellationTokenSource();
        var acked = new ConcurrentBag<(string SessionId, SaveAck Ack)>();
        var endings = new ConcurrentBag<string>();
        var unrecoverable = new ConcurrentBag<string>();
        var reconnects = 0;

        async Task ClientAsync(StartedLearner l)
        {
            var last = 0L;
            var round = 0;
            // The client's own cadence: a heartbeat and a save every 20 ms at most.
            using var cadence = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
            while (!stop.IsCancellationRequested)
            {
                ExamStreamClient stream;
                try
                {
                    // Opening again as a client does: retried while the answer is one a client recovers from.
                    stream = await Eventually.SucceedsAsync(() => ExamStreamClient.OpenAsync(_journey.Sessions(l.Token), l.SessionId, last), "the stream to open",
                        FaultStack.Patience, ex =>
                        {
                            if (ex is not RpcException { } rpc || !Recoverable(rpc.Status)) return false;
                            endings.Add("open:" + rpc.StatusCode);
                            return true;
                        });
                }
                catch (RpcException ex)
                {
                    unrecoverable.Add($"open: {ex.Status}");
                    return;
                }
                last = stream.Opened.LastAckedSequence;
                try
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var q = (int)(last % Questions);
                        await stream.SendHeartbeatAsync();
                        var ack = await stream.SaveAsync(last + 1, $"n{q}", new Answer { Number = q + (1000 * round) }, TimeSpan.FromSeconds(10));
                        acked.Add((l.SessionId, ack));
                        last = ack.Sequence;
                        if (q == Questions - 1) round++;
                        await cadence.WaitForNextTickAsync();
                    }
                    await stream.DisposeAsync();
                    return;
                }
                catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException or OperationCanceledException or TimeoutException)
                {
                    var status = stream.Ended.IsCompleted ? await stream.Ended : (ex as RpcException)?.Status ?? new Status(StatusCode.Unknown, ex.GetType().Name);
                    endings.Add((stream.Reconnect is not null ? "reconnect+" : string.Empty) + status.StatusCode);
                    if (!Recoverable(status) && stream.Reconnect is null) unrecoverable.Add(status.ToString());
                    Interlocked.Increment(ref reconnects);
                    await stream.DisposeAsync();
                    // A client honours the server's Reconnect: it waits the retry_after the draining replica asked for.
                    if (stream.Reconnect is not null) await Task.Delay(stream.Reconnect.RetryAfter.ToTimeSpan());
                }
            }
        }

        var clients = learners.Select(l => Task.Run(() => ClientAsync(l))).ToList();
        // Every client under way (saves acknowledged) before the first replica goes.
        await Eventually.True(() => learners.All(l => acked.Count(a => a.SessionId == l.SessionId) >= 5), "every client to save", FaultStack.Patience);
        var restarts = 0;
        for (var i = 0; i < stack.Sessions.Count; i++)
        {
            // One instance at a time, gracefully (SIGTERM, as Kubernetes does), then back on the same port.
            var exit = await stack.Sessions[i]!.TerminateAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, exit);
            await stack.StartSessionAsync(i);
            await stack.WaitSessionRoutedAsync(i);
            restarts++;
        }
        await stop.CancelAsync();
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(30));

        var saved = 0;
        var found = 0;
        foreach (var l in learners)
        {
            var session = await _journey.Sessions(l.Token).GetSessionAsync(new GetSessionRequest { SessionId = l.SessionId });
            var mine = acked.Where(a => a.SessionId == l.SessionId).Select(a => a.Ack).ToList();
            saved += mine.Count;
            found += ProcessKillTests.CountFound(mine, session);
        }
        var summary = string.Join(", ", endings.GroupBy(e => e).Select(g => $"{g.Key}×{g.Count()}"));
        Figures.Print(output, "rolling restart", $"instances restarted: {restarts}, streams: {learners.Count}, stream endings: {reconnects} ({summary}), unrecoverable: {unrecoverable.Count}, saves acknowledged: {saved}, saves found: {found}");
        Assert.Empty(unrecoverable);
        Assert.True(saved > learners.Count * 5, $"Too few saves went through during the restart ({saved}).");
        Assert.Equal(saved, found);
    }

    public void Dispose() => _journey.Dispose();
}
