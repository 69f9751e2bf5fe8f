using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Testing;
using Vigil.Testing.Images;

namespace Vigil.EndToEnd.Tests;

/// <summary>The gateway's per-learner rate limits, against the real services.</summary>
[Collection(StackCollection.Name)]
public sealed class RateLimitTests(EndToEndStack stack) : IDisposable
{
    private readonly Journey _journey = stack.NewJourney();

    [Fact]
    public async Task Photo_uploads_are_rate_limited_per_learner_with_ResourceExhausted()
    {
        var learner = await _journey.RegisteredLearnerAsync();
        var other = await _journey.RegisteredLearnerAsync();
        var exam = await _journey.StandardExamAsync();
        await _journey.CompleteChecksAsync(learner, exam.ExamId);
        var photo = TestImages.IdDocumentJpeg();
        for (var i = 0; i < EndToEndStack.PhotoUploadsPerWindow; i++)
        {
            await TestVerification.UploadAsync(learner.Identity(), exam.ExamId, PhotoKind.IdDocument, photo);
        }
        var ex = await RpcAssert.ThrowsAsync(StatusCode.ResourceExhausted, () => TestVerification.UploadAsync(learner.Identity(), exam.ExamId, PhotoKind.IdDocument, photo));
        Assert.Contains("Too many requests", ex.Status.Detail, StringComparison.Ordinal);

        // Another learner is not affected.
        await _journey.CompleteChecksAsync(other, exam.ExamId);
        var accepted = await TestVerification.UploadAsync(other.Identity(), exam.ExamId, PhotoKind.IdDocument, photo);
        Assert.Equal(PhotoVerdict.Accepted, accepted.Verdict);
    }

    public void Dispose() => _journey.Dispose();
}
