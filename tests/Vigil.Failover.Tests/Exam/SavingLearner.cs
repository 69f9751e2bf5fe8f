using Google.Rpc;
using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.Failover.Tests.Exam;

/// <summary>
/// A learner's proctoring client saving without pause through a failover, as a real client does: its own connection
/// (a learner is a machine of its own), one exam stream, a heartbeat every few saves, each save waited for; when the
/// stream ends or cannot open it keeps the status, waits as the server's <c>RetryInfo</c> says (without one: 200 ms,
/// doubling up to 3.2 s), with jitter (<see cref="RetryBackoff"/>), reopens from its last acknowledged sequence and
/// resends what was not acknowledged; a RetryLater on the open stream (the store failed for that one save, the stream
/// stays open) resends that save after its hint, with jitter, counted as an attempt and in <see cref="RetriesLater"/>. Save <c>s</c> answers question <c>n{s-1}</c> with the number <c>s</c>: every
/// save is a question of its own, so a later save never hides a lost one, and a resend is the same save again.
/// </summary>
internal sealed class SavingLearner(StartedLearner started, Uri front, int questions) : IDisposable
{
    private readonly Grpc.Net.Client.GrpcChannel _channel = TestChannel.ToProcess(front, started.Token);
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(50);
    private readonly object _gate = new();
    private readonly List<SaveAck> _acked = [];
    private readonly List<(StatusCode Code, bool RetryInfo, string Detail)> _endings = [];
    private readonly List<string> _refusals = [];
    private long _attempts;
    private long _retriesLater;

    public StartedLearner Started => started;

    /// <summary>Every acknowledgement received, in order.</summary>
    public IReadOnlyList<SaveAck> Acked
    {
        get { lock (_gate) return [.. _acked]; }
    }

    /// <summary>How every stream or open ended that was not the client's own choice: its status, and whether it said when to retry.</summary>
    public IReadOnlyList<(StatusCode Code, bool RetryInfo, string Detail)> Endings
    {
        get { lock (_gate) return [.. _endings]; }
    }

    /// <summary>Saves the server refused (SaveRejected): none may be, every save is valid.</summary>
    public IReadOnlyList<string> Refusals
    {
        get { lock (_gate) return [.. _refusals]; }
    }

    /// <summary>Saves sent (resends included).</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Saves the server answered with RetryLater on an open stream (each resent).</summary>
    public long RetriesLater => Interlocked.Read(ref _retriesLater);

    /// <summary>The last sequence the client knows acknowledged.</summary>
    public long LastAcked
    {
        get { lock (_gate) return _acked.Count == 0 ? 0 : _acked[^1].Sequence; }
    }

    /// <summary>Whether every question was saved and acknowledged.</summary>
    public bool Done => LastAcked >= questions;

    public static string QuestionOf(long sequence) => $"n{sequence - 1}";

    public static Answer AnswerOf(long sequence) => TestAnswers.Number(sequence);

    /// <summary>Saves until <paramref name="stop"/> or every question is saved.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var attempt = 0;
        while (!stop.IsCancellationRequested && !Done)
        {
            var retryAfter = RetryBackoff.Jitter(RetryBackoff.Exponential(++attempt));
            ExamStreamClient? stream = null;
            try
            {
                stream = await ExamStreamClient.OpenAsync(new SessionService.SessionServiceClient(_channel), started.SessionId, LastAcked);
                attempt = 0;
                for (var next = LastAcked + 1; next <= questions && !stop.IsCancellationRequested; next++)
                {
                    if (next % 5 == 0) await stream.SendHeartbeatAsync();
                    var ack = await SaveUntilAnsweredAsync(stream, next, stop);
                    if (ack is null) break;
                    lock (_gate) _acked.Add(ack);
                    await Task.Delay(Pace, CancellationToken.None);
                }
            }
            catch (RpcException ex)
            {
                var retry = ex.GetRpcStatus()?.GetDetail<RetryInfo>();
                retryAfter = RetryBackoff.After(ex, Math.Max(attempt, 1));
                var detail = ex.Status.DebugException is { } debug ? $"{ex.Status.Detail} [{debug.GetType().Name}: {debug.Message}]" : ex.Status.Detail;
                lock (_gate) _endings.Add((ex.StatusCode, retry is not null, detail));
            }
            catch (SaveRejectedException ex)
            {
                lock (_gate) _refusals.Add(ex.Message);
            }
            catch (TimeoutException ex)
            {
                // No answer at all within 20 s: as bad as a non-retryable status for a client, counted as such.
                lock (_gate) _endings.Add((StatusCode.DeadlineExceeded, false, "client: " + ex.Message));
            }
            finally
            {
                if (stream is not null) await stream.DisposeAsync();
            }
            if (!stop.IsCancellationRequested && !Done) await Task.Delay(retryAfter, CancellationToken.None);
        }
    }

    /// <summary>One save, sent again after each RetryLater (the stream stays open) until acknowledged; null when stopped.</summary>
    private async Task<SaveAck?> SaveUntilAnsweredAsync(ExamStreamClient stream, long sequence, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Interlocked.Increment(ref _attempts);
            var reply = await stream.SaveOnceAsync(sequence, QuestionOf(sequence), AnswerOf(sequence), TimeSpan.FromSeconds(20));
            switch (reply.MessageCase)
            {
                case StreamExamResponse.MessageOneofCase.SaveAck:
                    return reply.SaveAck;
                case StreamExamResponse.MessageOneofCase.SaveRejected:
                    throw new SaveRejectedException(reply.SaveRejected);
            }
            Interlocked.Increment(ref _retriesLater);
            await Task.Delay(RetryBackoff.Jitter(reply.Retry.RetryAfter?.ToTimeSpan() ?? RetryBackoff.Exponential(1)), CancellationToken.None);
        }
        return null;
    }

    /// <summary>
    /// Before the final check, as a client does: reopens the stream and, when the server has acknowledged further than
    /// this client knows (a save carried out whose acknowledgement was lost with its stream), resends those saves (the
    /// same sequences, the same answers: acknowledged as duplicates). Retried while the answer is UNAVAILABLE.
    /// </summary>
    public Task CatchUpAsync() => Eventually.SucceedsAsync(async () =>
    {
        await using var stream = await ExamStreamClient.OpenAsync(new SessionService.SessionServiceClient(_channel), started.SessionId, LastAcked);
        for (var next = LastAcked + 1; next <= stream.Opened.LastAckedSequence; next++)
        {
            var ack = await stream.SaveAsync(next, QuestionOf(next), AnswerOf(next));
            lock (_gate) _acked.Add(ack);
        }
        return stream.Opened;
    }, $"session {started.SessionId}: the client caught up with the server", TimeSpan.FromSeconds(120));

    public void Dispose() => _channel.Dispose();
}
