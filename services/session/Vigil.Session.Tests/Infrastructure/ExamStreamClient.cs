using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Session.V1;

namespace Vigil.Session.Tests.Infrastructure;

/// <summary>The client side of the exam stream: sends, and reads the server's messages in order, keeping the warnings.</summary>
public sealed class ExamStreamClient : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<StreamExamRequest, StreamExamResponse> _call;
    private readonly Channel<StreamExamResponse> _inbox = System.Threading.Channels.Channel.CreateUnbounded<StreamExamResponse>();
    private readonly Task _pump;
    private long _heartbeat;

    private ExamStreamClient(AsyncDuplexStreamingCall<StreamExamRequest, StreamExamResponse> call)
    {
        _call = call;
        _pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var m in call.ResponseStream.ReadAllAsync()) await _inbox.Writer.WriteAsync(m);
                _inbox.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                _inbox.Writer.TryComplete(ex);
            }
        });
    }

    public StreamOpened Opened { get; private set; } = null!;
    public List<Warning> Warnings { get; } = [];
    public Reconnect? ReconnectReceived { get; private set; }

    public static async Task<ExamStreamClient> OpenAsync(SessionService.SessionServiceClient client, string sessionId, long lastAcked)
    {
        var stream = new ExamStreamClient(client.StreamExam());
        await stream._call.RequestStream.WriteAsync(new StreamExamRequest { Open = new OpenStream { SessionId = sessionId, LastAckedSequence = lastAcked } });
        stream.Opened = (await stream.NextAsync()).Opened ?? throw new InvalidOperationException("Expected StreamOpened.");
        return stream;
    }

    /// <summary>Saves and waits for the answer (SaveAck or SaveRejected).</summary>
    public async Task<StreamExamResponse> SaveAsync(long sequence, string questionId, Answer answer)
    {
        await _call.RequestStream.WriteAsync(new StreamExamRequest { Save = new AnswerSave { Sequence = sequence, QuestionId = questionId, Answer = answer } });
        return await NextAsync(r => r.MessageCase is StreamExamResponse.MessageOneofCase.SaveAck or StreamExamResponse.MessageOneofCase.SaveRejected);
    }

    /// <summary>Sends a heartbeat and waits for its reply.</summary>
    public async Task<HeartbeatReply> HeartbeatAsync(bool camera = true, bool mic = true, bool screen = true, bool focused = true, AudioOutput audio = AudioOutput.Speakers)
    {
        var seq = Interlocked.Increment(ref _heartbeat);
        await _call.RequestStream.WriteAsync(new StreamExamRequest
        {
            Heartbeat = new Heartbeat
            {
                Sequence = seq, CameraOn = camera, MicrophoneOn = mic, ScreenShareOn = screen, Focused = focused, AudioOutput = audio,
                ClientTime = Timestamp.FromDateTime(DateTime.UtcNow),
            },
        });
        var reply = await NextAsync(r => r.MessageCase == StreamExamResponse.MessageOneofCase.HeartbeatReply && r.HeartbeatReply.Sequence == seq);
        return reply.HeartbeatReply;
    }

    /// <summary>Reads messages until one matches (warnings are kept aside).</summary>
    public async Task<StreamExamResponse> NextAsync(Func<StreamExamResponse, bool>? match = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            StreamExamResponse m;
            try
            {
                m = await _inbox.Reader.ReadAsync(cts.Token);
            }
            catch (ChannelClosedException ex) when (ex.InnerException is RpcException rpc)
            {
                throw rpc;
            }
            if (m.MessageCase == StreamExamResponse.MessageOneofCase.Warning) Warnings.Add(m.Warning);
            if (m.MessageCase == StreamExamResponse.MessageOneofCase.Reconnect) ReconnectReceived = m.Reconnect;
            if (match is null || match(m)) return m;
        }
    }

    /// <summary>Waits until the server ends the stream; returns the messages read meanwhile.</summary>
    public async Task<List<StreamExamResponse>> ReadToEndAsync(TimeSpan timeout)
    {
        var list = new List<StreamExamResponse>();
        using var cts = new CancellationTokenSource(timeout);
        await foreach (var m in _inbox.Reader.ReadAllAsync(cts.Token))
        {
            if (m.MessageCase == StreamExamResponse.MessageOneofCase.Reconnect) ReconnectReceived = m.Reconnect;
            list.Add(m);
        }
        return list;
    }

    /// <summary>Drops the connection without a goodbye, as a client losing its network does.</summary>
    public void Drop() => _call.Dispose();

    public async ValueTask DisposeAsync()
    {
        try { await _call.RequestStream.CompleteAsync(); } catch (Exception) { }
        _call.Dispose();
        try { await _pump; } catch (Exception) { }
    }
}
