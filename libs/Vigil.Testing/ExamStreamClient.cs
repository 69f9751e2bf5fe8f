using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Session.V1;

namespace Vigil.Testing;

/// <summary>
/// The proctoring client's side of one exam stream (<c>SessionService/StreamExam</c>), for every suite: it opens
/// the stream, sends heartbeats and saves, and a pump reads every server message as it comes, keeping the
/// acknowledgements (<see cref="Acks"/>), the warnings (<see cref="Warnings"/>), a <see cref="Reconnect"/> and how
/// the stream ended (<see cref="Ended"/>: OK, a status, or the connection gone). Waits are for messages, never for
/// a fixed time. A RetryLater from the server (its store failed for that one message; the stream stays open) is
/// kept (<see cref="Retries"/>); <see cref="SaveAsync"/> and <see cref="HeartbeatAsync"/> send the message again
/// after its retry_after with jitter (on <see cref="OpenAsync"/>'s clock), as the proctoring client does;
/// <see cref="SaveOnceAsync"/> and <see cref="HeartbeatOnceAsync"/> return the first answer as it is.
/// </summary>
public sealed class ExamStreamClient : IAsyncDisposable
{
    /// <summary>How long a wait for one server message lasts unless told.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    private readonly AsyncDuplexStreamingCall<StreamExamRequest, StreamExamResponse> _call;
    private readonly Channel<StreamExamResponse> _inbox = System.Threading.Channels.Channel.CreateUnbounded<StreamExamResponse>();
    private readonly TaskCompletionSource<Status> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<long, SaveAck> _acks = new();
    private readonly List<Warning> _warnings = [];
    private readonly List<RetryLater> _retries = [];
    private TimeProvider _time = TimeProvider.System;
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly Task _pump;
    private Metadata _trailers = Metadata.Empty;
    private long _heartbeat;

    private ExamStreamClient(AsyncDuplexStreamingCall<StreamExamRequest, StreamExamResponse> call)
    {
        _call = call;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>The server's StreamOpened: the session's state and its last acknowledged sequence.</summary>
    public StreamOpened Opened { get; private set; } = null!;

    /// <summary>Every acknowledgement received so far, by sequence.</summary>
    public IReadOnlyDictionary<long, SaveAck> Acks => _acks;

    /// <summary>Every warning received so far, in order.</summary>
    public IReadOnlyList<Warning> Warnings
    {
        get { lock (_warnings) return [.. _warnings]; }
    }

    /// <summary>Every RetryLater received so far, in order.</summary>
    public IReadOnlyList<RetryLater> Retries
    {
        get { lock (_retries) return [.. _retries]; }
    }

    /// <summary>How many times a save or heartbeat is sent again after a RetryLater before the client gives up.</summary>
    public int MaxResends { get; set; } = 20;

    /// <summary>The Reconnect the server sent when it drained, if any.</summary>
    public Reconnect? Reconnect { get; private set; }

    /// <summary>Completes with the stream's final status when the server ends it or the connection breaks.</summary>
    public Task<Status> Ended => _ended.Task;

    /// <summary>The trailers the stream ended with (its status details: a <c>google.rpc.RetryInfo</c>…), empty until then.</summary>
    public Metadata Trailers => _trailers;

    /// <summary>Opens the stream on <paramref name="client"/> and waits for StreamOpened.</summary>
    /// <param name="client">A client calling as the learner.</param>
    /// <param name="sessionId">The session.</param>
    /// <param name="lastAcked">The last sequence the client knows acknowledged (0 for a first open).</param>
    /// <param name="timeout">How long StreamOpened may take.</param>
    /// <param name="time">The clock of the waits before a resend (the system's unless given).</param>
    public static async Task<ExamStreamClient> OpenAsync(SessionService.SessionServiceClient client, string sessionId, long lastAcked = 0, TimeSpan? timeout = null,
        TimeProvider? time = null)
    {
        var stream = new ExamStreamClient(client.StreamExam()) { _time = time ?? TimeProvider.System };
        try
        {
            await stream.WriteAsync(new StreamExamRequest { Open = new OpenStream { SessionId = sessionId, LastAckedSequence = lastAcked } });
            var first = await stream.NextAsync(null, timeout);
            stream.Opened = first.MessageCase == StreamExamResponse.MessageOneofCase.Opened
                ? first.Opened
                : throw new InvalidOperationException("Expected StreamOpened, got " + first);
            return stream;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Sends a heartbeat and waits for its reply (warnings the server sends with it are in <see cref="Warnings"/> by
    /// then); on a RetryLater, sends a new one after the hint.
    /// </summary>
    public async Task<HeartbeatReply> HeartbeatAsync(bool camera = true, bool microphone = true, bool screenShare = true, bool focused = true, AudioOutput audio = AudioOutput.Speakers, TimeSpan? timeout = null)
    {
        for (var resend = 0; ; resend++)
        {
            var reply = await HeartbeatOnceAsync(camera, microphone, screenShare, focused, audio, timeout);
            if (reply.MessageCase == StreamExamResponse.MessageOneofCase.HeartbeatReply) return reply.HeartbeatReply;
            await WaitBeforeResendAsync(reply.Retry, resend);
        }
    }

    /// <summary>Sends a heartbeat and returns the server's first answer to it: its HeartbeatReply or a RetryLater.</summary>
    public async Task<StreamExamResponse> HeartbeatOnceAsync(bool camera = true, bool microphone = true, bool screenShare = true, bool focused = true, AudioOutput audio = AudioOutput.Speakers, TimeSpan? timeout = null)
    {
        var sequence = await SendHeartbeatAsync(camera, microphone, screenShare, focused, audio);
        return await NextAsync(r => (r.MessageCase == StreamExamResponse.MessageOneofCase.HeartbeatReply && r.HeartbeatReply.Sequence == sequence)
            || (r.MessageCase == StreamExamResponse.MessageOneofCase.Retry && r.Retry.Target == RetryTarget.Heartbeat && r.Retry.Sequence == sequence), timeout);
    }

    /// <summary>Sends a heartbeat without waiting for the reply (pipelined with saves); returns its sequence.</summary>
    public async Task<long> SendHeartbeatAsync(bool camera = true, bool microphone = true, bool screenShare = true, bool focused = true, AudioOutput audio = AudioOutput.Speakers)
    {
        var sequence = Interlocked.Increment(ref _heartbeat);
        await WriteAsync(new StreamExamRequest
        {
            Heartbeat = new Heartbeat
            {
                Sequence = sequence, CameraOn = camera, MicrophoneOn = microphone, ScreenShareOn = screenShare, Focused = focused, AudioOutput = audio,
                ClientTime = Timestamp.FromDateTime(DateTime.UtcNow),
            },
        });
        return sequence;
    }

    /// <summary>Sends any message as it is (a second OpenStream, an empty message, a field the contract does not define).</summary>
    public Task SendAsync(StreamExamRequest request) => WriteAsync(request);

    /// <summary>Sends a save without waiting for its answer.</summary>
    public Task SendSaveAsync(long sequence, string questionId, Answer answer) =>
        WriteAsync(new StreamExamRequest { Save = new AnswerSave { Sequence = sequence, QuestionId = questionId, Answer = answer } });

    /// <summary>
    /// Saves and waits for the acknowledgement, sending the same save again after each RetryLater (its hint, with
    /// jitter); a refusal throws <see cref="SaveRejectedException"/>.
    /// </summary>
    public async Task<SaveAck> SaveAsync(long sequence, string questionId, Answer answer, TimeSpan? timeout = null)
    {
        for (var resend = 0; ; resend++)
        {
            var reply = await SaveOnceAsync(sequence, questionId, answer, timeout);
            switch (reply.MessageCase)
            {
                case StreamExamResponse.MessageOneofCase.SaveAck:
                    return reply.SaveAck;
                case StreamExamResponse.MessageOneofCase.SaveRejected:
                    throw new SaveRejectedException(reply.SaveRejected);
                default:
                    await WaitBeforeResendAsync(reply.Retry, resend);
                    break;
            }
        }
    }

    /// <summary>Saves once and returns the server's first answer to it: SaveAck, SaveRejected or RetryLater.</summary>
    public Task<StreamExamResponse> SaveOnceAsync(long sequence, string questionId, Answer answer, TimeSpan? timeout = null) =>
        SaveAndReadAsync(sequence, questionId, answer, timeout);

    /// <summary>Saves a save that must be refused and returns the refusal; an acknowledgement fails the test.</summary>
    public async Task<SaveRejected> SaveRejectedAsync(long sequence, string questionId, Answer answer, TimeSpan? timeout = null)
    {
        var reply = await SaveAndReadAsync(sequence, questionId, answer, timeout);
        return reply.MessageCase == StreamExamResponse.MessageOneofCase.SaveRejected
            ? reply.SaveRejected
            : throw new InvalidOperationException($"Save {sequence} was answered {reply.MessageCase} where a refusal was expected: {reply}");
    }

    private async Task<StreamExamResponse> SaveAndReadAsync(long sequence, string questionId, Answer answer, TimeSpan? timeout)
    {
        await SendSaveAsync(sequence, questionId, answer);
        return await NextAsync(r => (r.MessageCase == StreamExamResponse.MessageOneofCase.SaveAck && r.SaveAck.Sequence == sequence)
            || (r.MessageCase == StreamExamResponse.MessageOneofCase.SaveRejected && r.SaveRejected.Sequence == sequence)
            || (r.MessageCase == StreamExamResponse.MessageOneofCase.Retry && r.Retry.Target == RetryTarget.Save && r.Retry.Sequence == sequence), timeout);
    }

    private Task WaitBeforeResendAsync(RetryLater retry, int resends)
    {
        if (resends >= MaxResends) throw new TimeoutException($"Still told to retry after {resends} resends: {retry.Reason}");
        return Task.Delay(RetryBackoff.Jitter(retry.RetryAfter?.ToTimeSpan() ?? RetryBackoff.Exponential(resends + 1)), _time);
    }

    /// <summary>
    /// Reads the server's messages in order until one matches (any when <paramref name="match"/> is null). When the
    /// stream ends first, throws an <see cref="RpcException"/> with its final status.
    /// </summary>
    public async Task<StreamExamResponse> NextAsync(Func<StreamExamResponse, bool>? match = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            while (await _inbox.Reader.WaitToReadAsync(cts.Token))
            {
                while (_inbox.Reader.TryRead(out var m))
                {
                    if (match is null || match(m)) return m;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"No matching message from the exam stream within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s.");
        }
        var status = await Ended;
        throw new RpcException(status, _trailers, "The stream ended before the expected message.");
    }

    /// <summary>Drops the connection without a goodbye, as a client losing its network does.</summary>
    public void Drop() => _call.Dispose();

    /// <summary>Tells the server the client is done sending.</summary>
    public async Task CompleteAsync()
    {
        await _write.WaitAsync();
        try { await _call.RequestStream.CompleteAsync(); }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException) { }
        finally { _write.Release(); }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await CompleteAsync();
        _call.Dispose();
        await _pump;
        _write.Dispose();
    }

    private async Task WriteAsync(StreamExamRequest request)
    {
        RpcException? failed = null;
        await _write.WaitAsync();
        try { await _call.RequestStream.WriteAsync(request); }
        catch (RpcException ex) { failed = ex; }
        finally { _write.Release(); }
        if (failed is null) return;
        // The server ended the call while the message was being written (e.g. a trailers-only UNAVAILABLE): the write
        // then fails as CANCELLED with no detail; the call's own status, as the server sent it, is the answer.
        if (await Task.WhenAny(Ended, Task.Delay(TimeSpan.FromSeconds(5))) == Ended)
        {
            throw new RpcException(Ended.Result, _trailers, "The stream ended before the message was sent.");
        }
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed);
    }

    private async Task PumpAsync()
    {
        try
        {
            await foreach (var m in _call.ResponseStream.ReadAllAsync())
            {
                switch (m.MessageCase)
                {
                    case StreamExamResponse.MessageOneofCase.SaveAck:
                        _acks[m.SaveAck.Sequence] = m.SaveAck;
                        break;
                    case StreamExamResponse.MessageOneofCase.Warning:
                        lock (_warnings) _warnings.Add(m.Warning);
                        break;
                    case StreamExamResponse.MessageOneofCase.Reconnect:
                        Reconnect = m.Reconnect;
                        break;
                    case StreamExamResponse.MessageOneofCase.Retry:
                        lock (_retries) _retries.Add(m.Retry);
                        break;
                }
                await _inbox.Writer.WriteAsync(m);
            }
            _ended.TrySetResult(Status.DefaultSuccess);
        }
        catch (RpcException ex)
        {
            _trailers = ex.Trailers;
            _ended.TrySetResult(ex.Status);
        }
        catch (Exception ex)
        {
            // Not a gRPC status: the fault tests count it as an ending no client recovers from.
            _ended.TrySetResult(new Status(StatusCode.Unknown, "client: " + ex.GetType().Name, ex));
        }
        _inbox.Writer.TryComplete();
    }
}

/// <summary>A save the server refused (<see cref="Rejection"/> says why).</summary>
public sealed class SaveRejectedException(SaveRejected rejection)
    : InvalidOperationException($"Save {rejection.Sequence} refused ({rejection.Reason}): {rejection.Message}")
{
    /// <summary>The server's refusal.</summary>
    public SaveRejected Rejection { get; } = rejection;
}
