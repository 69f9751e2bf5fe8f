using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Session.V1;

namespace Vigil.Faults.Tests.Infrastructure;

/// <summary>
/// The client side of one exam stream: a pump reads every server message, records each acknowledgement
/// (question, sequence, digest) and how the stream ended (<see cref="Ended"/>: OK, a status, or a Reconnect).
/// </summary>
public sealed class ExamStream : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<StreamExamRequest, StreamExamResponse> _call;
    private readonly Channel<StreamExamResponse> _inbox = System.Threading.Channels.Channel.CreateUnbounded<StreamExamResponse>();
    private readonly TaskCompletionSource<Status> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _write = new(1, 1);
    private long _heartbeat;

    private ExamStream(AsyncDuplexStreamingCall<StreamExamRequest, StreamExamResponse> call)
    {
        _call = call;
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var m in call.ResponseStream.ReadAllAsync())
                {
                    if (m.MessageCase == StreamExamResponse.MessageOneofCase.SaveAck) Acks[m.SaveAck.Sequence] = m.SaveAck;
                    if (m.MessageCase == StreamExamResponse.MessageOneofCase.Reconnect) Reconnect = m.Reconnect;
                    await _inbox.Writer.WriteAsync(m);
                }
                _ended.TrySetResult(Status.DefaultSuccess);
            }
            catch (RpcException ex)
            {
                _ended.TrySetResult(ex.Status);
            }
            catch (Exception ex)
            {
                _ended.TrySetResult(new Status(StatusCode.Unknown, "client: " + ex.GetType().Name, ex));
            }
            _inbox.Writer.TryComplete();
        });
    }

    /// <summary>The server's StreamOpened.</summary>
    public StreamOpened Opened { get; private set; } = null!;

    /// <summary>Every acknowledgement received, by sequence.</summary>
    public ConcurrentDictionary<long, SaveAck> Acks { get; } = new();

    /// <summary>The Reconnect the server sent when it drained, if any.</summary>
    public Reconnect? Reconnect { get; private set; }

    /// <summary>Completes with the stream's final status when the server ends it or the connection breaks.</summary>
    public Task<Status> Ended => _ended.Task;

    public static async Task<ExamStream> OpenAsync(SessionService.SessionServiceClient client, string sessionId, long lastAcked = 0, CancellationToken cancellationToken = default)
    {
        var stream = new ExamStream(client.StreamExam(cancellationToken: cancellationToken));
        await stream.WriteAsync(new StreamExamRequest { Open = new OpenStream { SessionId = sessionId, LastAckedSequence = lastAcked } });
        var first = await stream.NextAsync(null, TimeSpan.FromSeconds(15));
        stream.Opened = first.MessageCase == StreamExamResponse.MessageOneofCase.Opened
            ? first.Opened
            : throw new InvalidOperationException("Expected StreamOpened, got " + first);
        return stream;
    }

    private async Task WriteAsync(StreamExamRequest request)
    {
        await _write.WaitAsync();
        try { await _call.RequestStream.WriteAsync(request); }
        finally { _write.Release(); }
    }

    /// <summary>Sends a heartbeat with everything on (no wait for the reply).</summary>
    public Task HeartbeatAsync() => WriteAsync(new StreamExamRequest
    {
        Heartbeat = new Heartbeat
        {
            Sequence = Interlocked.Increment(ref _heartbeat), CameraOn = true, MicrophoneOn = true, ScreenShareOn = true, Focused = true,
            AudioOutput = AudioOutput.Speakers, ClientTime = Timestamp.FromDateTime(DateTime.UtcNow),
        },
    });

    /// <summary>Sends a save without waiting.</summary>
    public Task SendSaveAsync(long sequence, string questionId, Answer answer) =>
        WriteAsync(new StreamExamRequest { Save = new AnswerSave { Sequence = sequence, QuestionId = questionId, Answer = answer } });

    /// <summary>Sends a save and waits for its acknowledgement (throws on a refusal or the end of the stream).</summary>
    public async Task<SaveAck> SaveAsync(long sequence, string questionId, Answer answer, TimeSpan? timeout = null)
    {
        await SendSaveAsync(sequence, questionId, answer);
        var m = await NextAsync(r => (r.MessageCase == StreamExamResponse.MessageOneofCase.SaveAck && r.SaveAck.Sequence == sequence)
            || (r.MessageCase == StreamExamResponse.MessageOneofCase.SaveRejected && r.SaveRejected.Sequence == sequence), timeout ?? TimeSpan.FromSeconds(15));
        return m.MessageCase == StreamExamResponse.MessageOneofCase.SaveAck
            ? m.SaveAck
            : throw new InvalidOperationException($"Save {sequence} refused: {m.SaveRejected}");
    }

    /// <summary>Reads until a message matches; throws when the stream ends first.</summary>
    public async Task<StreamExamResponse> NextAsync(Func<StreamExamResponse, bool>? match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (await _inbox.Reader.WaitToReadAsync(cts.Token))
        {
            while (_inbox.Reader.TryRead(out var m))
            {
                if (match is null || match(m)) return m;
            }
        }
        var status = await Ended;
        throw new RpcException(status, "The stream ended before the expected message.");
    }

    /// <summary>Tells the server the client is done.</summary>
    public async Task CompleteAsync()
    {
        try { await _call.RequestStream.CompleteAsync(); } catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await CompleteAsync();
        _call.Dispose();
        _write.Dispose();
    }
}
