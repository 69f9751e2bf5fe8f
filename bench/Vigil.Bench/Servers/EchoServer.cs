using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SkiaSharp;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;

namespace Vigil.Bench.Servers;

/// <summary>
/// The ceiling server: Kestrel and gRPC as the services use them, with no work behind the messages.
/// SessionService.StreamExam answers every heartbeat and save with the same response messages the session
/// service sends (HeartbeatReply, SaveAck with a 64-hex digest), without touching a store: what a heartbeat or
/// a save can never beat. IdentityService.UploadPhoto receives the same chunks and does a bare decode and
/// re-encode of the photo with SkiaSharp: what a photo check can never beat.
/// </summary>
internal static class EchoServer
{
    public static async Task<int> RunAsync(int grpcPort, int httpPort)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, grpcPort, o => o.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
            k.Listen(System.Net.IPAddress.Loopback, httpPort, o => o.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1);
        });
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 16 * 1024 * 1024);
        var app = builder.Build();
        app.MapGrpcService<EchoSessionService>();
        app.MapGrpcService<EchoIdentityService>();
        app.MapGet("/health/live", () => "ok");
        app.MapGet("/health/ready", () => "ok");
        await app.RunAsync();
        return 0;
    }
}

/// <summary>The empty echo of the exam stream.</summary>
internal sealed class EchoSessionService : SessionService.SessionServiceBase
{
    private const string Digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public override async Task StreamExam(IAsyncStreamReader<StreamExamRequest> requestStream, IServerStreamWriter<StreamExamResponse> responseStream, ServerCallContext context)
    {
        var deadline = DateTimeOffset.UtcNow.AddHours(4);
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var m = requestStream.Current;
            var now = DateTimeOffset.UtcNow;
            switch (m.MessageCase)
            {
                case StreamExamRequest.MessageOneofCase.Open:
                    await responseStream.WriteAsync(new StreamExamResponse
                    {
                        Opened = new StreamOpened
                        {
                            SessionId = m.Open.SessionId,
                            LastAckedSequence = m.Open.LastAckedSequence,
                            ServerTime = Timestamp.FromDateTimeOffset(now),
                            Deadline = Timestamp.FromDateTimeOffset(deadline),
                            State = SessionState.InProgress,
                        },
                    });
                    break;
                case StreamExamRequest.MessageOneofCase.Heartbeat:
                    await responseStream.WriteAsync(new StreamExamResponse
                    {
                        HeartbeatReply = new HeartbeatReply
                        {
                            Sequence = m.Heartbeat.Sequence,
                            ServerTime = Timestamp.FromDateTimeOffset(now),
                            TimeLeft = Duration.FromTimeSpan(deadline - now),
                        },
                    });
                    break;
                case StreamExamRequest.MessageOneofCase.Save:
                    await responseStream.WriteAsync(new StreamExamResponse
                    {
                        SaveAck = new SaveAck { Sequence = m.Save.Sequence, QuestionId = m.Save.QuestionId, Outcome = SaveOutcome.Stored, AnswerDigest = Digest },
                    });
                    break;
            }
        }
    }
}

/// <summary>The bare photo decode and re-encode.</summary>
internal sealed class EchoIdentityService : IdentityService.IdentityServiceBase
{
    public override async Task<UploadPhotoResponse> UploadPhoto(IAsyncStreamReader<UploadPhotoRequest> requestStream, ServerCallContext context)
    {
        using var buffer = new MemoryStream();
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            if (requestStream.Current.PartCase == UploadPhotoRequest.PartOneofCase.Chunk) requestStream.Current.Chunk.WriteTo(buffer);
        }
        using var bitmap = SKBitmap.Decode(buffer.ToArray()) ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "not an image"));
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(SKEncodedImageFormat.Jpeg, 90);
        return new UploadPhotoResponse
        {
            PhotoId = "echo-" + encoded.Size.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Verdict = PhotoVerdict.Accepted,
        };
    }
}
