using Grpc.Core;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>The gateway's per-learner rate limits, against the real services.</summary>
[Collection(StackCollection.Name)]
public sealed class RateLimitTests(VigilStack stack) : IDisposable
{
    private readonly Flow _flow = new(stack);

    [Fact]
    public async Task Photo_uploads_are_rate_limited_per_learner_with_ResourceExhausted()
    {
        var (_, token) = await _flow.RegisteredLearnerAsync();
        var (_, other) = await _flow.RegisteredLearnerAsync();
        var exam = await _flow.ExamAsync(Flow.Id("course"));
        await _flow.CompleteStepAsync(token, exam.ExamId, VerificationStep.SystemCheck);
        await _flow.CompleteStepAsync(token, exam.ExamId, VerificationStep.MicrophoneTest);
        var tiny = Vigil.Cli.Images.SampleImages.IdDocument();
        for (var i = 0; i < VigilStack.PhotoUploadsPerWindow; i++)
        {
            await _flow.UploadAsync(token, exam.ExamId, PhotoKind.IdDocument, tiny);
        }
        var ex = await RpcAssert.ThrowsAsync(StatusCode.ResourceExhausted, () => _flow.UploadAsync(token, exam.ExamId, PhotoKind.IdDocument, tiny));
        Assert.Contains("Too many requests", ex.Status.Detail, StringComparison.Ordinal);

        // Another learner is not affected.
        await _flow.CompleteStepAsync(other, exam.ExamId, VerificationStep.SystemCheck);
        await _flow.CompleteStepAsync(other, exam.ExamId, VerificationStep.MicrophoneTest);
        var accepted = await _flow.UploadAsync(other, exam.ExamId, PhotoKind.IdDocument, tiny);
        Assert.Equal(PhotoVerdict.Accepted, accepted.Verdict);
    }

    public void Dispose() => _flow.Dispose();
}
