using Google.Protobuf;
using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Testing;
using Vigil.Testing.Images;

namespace Vigil.Session.Tests.Infrastructure;

/// <summary>The identity service the session service talks to in the tests, and the learner's side of the verification.</summary>
public sealed class IdentityTestHost : IAsyncDisposable
{
    private readonly Func<string?, Grpc.Net.Client.GrpcChannel> _channel;
    private readonly Func<HttpMessageHandler> _handler;
    private readonly Func<ValueTask> _dispose;

    private IdentityTestHost(Func<string?, Grpc.Net.Client.GrpcChannel> channel, Func<HttpMessageHandler> handler, Func<ValueTask> dispose)
    {
        _channel = channel;
        _handler = handler;
        _dispose = dispose;
    }

    /// <summary>The REAL identity service, in process (environment Testing), on the real Redis.</summary>
    public static Task<IdentityTestHost> StartAsync()
    {
        var factory = new VigilServiceFactory<Vigil.Identity.IdentityApp>("session");
        _ = factory.Server;
        return Task.FromResult(new IdentityTestHost(factory.Channel, factory.Server.CreateHandler, factory.DisposeAsync));
    }

    public HttpMessageHandler CreateHandler() => _handler();

    /// <summary>The learner's side of the verification against an identity service reached through a channel (e.g. a real process).</summary>
    public static IdentityTestHost ForChannel(Func<string?, Grpc.Net.Client.GrpcChannel> channel) =>
        new(channel, () => throw new NotSupportedException(), () => ValueTask.CompletedTask);

    public IdentityService.IdentityServiceClient Client(string token) => new(_channel(token));

    public async Task RegisterAsync(TestLearner learner) =>
        await Client(learner.Token).RegisterLearnerAsync(new RegisterLearnerRequest
        {
            RequestId = Guid.NewGuid().ToString(),
            Email = learner.Id + "@example.org",
            DisplayName = learner.Name,
        });

    /// <summary>The verification phase as the client runs it: system check, microphone test, then (optionally) the ID-document photo and the face photo.</summary>
    public async Task CompleteVerificationAsync(TestLearner learner, string examId, bool withIdPhoto)
    {
        var client = Client(learner.Token);
        foreach (var step in new[] { VerificationStep.SystemCheck, VerificationStep.MicrophoneTest })
        {
            await client.CompleteVerificationStepAsync(new CompleteVerificationStepRequest
            {
                RequestId = Guid.NewGuid().ToString(), ExamId = examId, Step = step, Passed = true, Details = "ok",
            });
        }
        if (withIdPhoto) await UploadPhotosAsync(learner, examId);
    }

    /// <summary>The ID-document photo, then the face photo.</summary>
    public async Task UploadPhotosAsync(TestLearner learner, string examId)
    {
        var client = Client(learner.Token);
        await UploadAsync(client, examId, PhotoKind.IdDocument, TestImages.IdDocumentJpeg());
        await UploadAsync(client, examId, PhotoKind.Face, TestImages.FaceJpeg());
    }

    private static async Task UploadAsync(IdentityService.IdentityServiceClient client, string examId, PhotoKind kind, byte[] image)
    {
        var response = await TestVerification.UploadAsync(client, examId, kind, image);
        if (response.Verdict != PhotoVerdict.Accepted)
        {
            throw new InvalidOperationException($"The {kind} photo was rejected: {response.Message}");
        }
    }

    public ValueTask DisposeAsync() => _dispose();
}
