using Grpc.Core;
using SkiaSharp;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Tests.Infrastructure;
using Vigil.Testing;
using Vigil.Testing.Images;

namespace Vigil.Identity.Tests.Photos;

/// <summary>
/// The photo-quality corpus (<see cref="PhotoCorpus"/>) through the real identity service: UploadPhoto as a client
/// stream against the real Redis. Documents at the ID step; portraits at the face step, after an ordinary ID document.
/// </summary>
[Collection(IdentityCollection.Name)]
public sealed class UploadPhotoCorpusTests(IdentityFixture fx)
{
    public static TheoryData<string> Names => [.. PhotoCorpus.All.Select(p => p.Name)];

    private async Task<(IdentityService.IdentityServiceClient Client, string Exam)> AtStep(string learner, PhotoKind kind)
    {
        var exam = IdentityFixture.NewId("exam");
        var client = fx.Learner(learner);
        foreach (var step in new[] { VerificationStep.SystemCheck, VerificationStep.MicrophoneTest })
        {
            await client.CompleteVerificationStepAsync(new CompleteVerificationStepRequest { RequestId = Guid.NewGuid().ToString("N"), ExamId = exam, Step = step, Passed = true });
        }
        if (kind == PhotoKind.Face)
        {
            var id = await TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, TestImages.IdDocumentJpeg(5));
            Assert.Equal(PhotoVerdict.Accepted, id.Verdict);
        }
        return (client, exam);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Each_photo_gets_the_answer_a_person_expects_from_upload_photo(string name)
    {
        var photo = PhotoCorpus.Get(name);
        var learner = IdentityFixture.NewId("l");
        var (client, exam) = await AtStep(learner, photo.Kind);
        if (photo.Expected == Expectation.RefuseFile)
        {
            var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, () => TestVerification.UploadAsync(client, exam, photo.Kind, photo.Bytes));
            Assert.Equal("chunk", Assert.Single(RpcAssert.FieldViolations(ex)).Field);
            return;
        }
        var response = await TestVerification.UploadAsync(client, exam, photo.Kind, photo.Bytes, chunkSize: 64 * 1024);
        if (photo.Expected == Expectation.Accept || photo.KnownMiss is not null)
        {
            // Usable, or a documented miss (docs/identity.md): accepted, stored as a clean upright JPEG.
            Assert.True(PhotoVerdict.Accepted == response.Verdict, $"{name} ({photo.What}) refused: {string.Join("; ", response.Problems.Select(p => $"{p.Code}: {p.Message}"))}");
            var stored = await client.GetPhotoAsync(new GetPhotoRequest { ExamId = exam, Kind = photo.Kind });
            using var codec = SKCodec.Create(new SKMemoryStream(stored.Data.ToByteArray()));
            Assert.Equal(SKEncodedImageFormat.Jpeg, codec.EncodedFormat);
            Assert.Equal(SKEncodedOrigin.TopLeft, codec.EncodedOrigin);
        }
        else
        {
            Assert.True(PhotoVerdict.Rejected == response.Verdict, $"{name} ({photo.What}) accepted");
            var problem = Assert.Single(response.Problems);
            Assert.Contains(problem.Code, photo.Reasons);
            Assert.False(string.IsNullOrWhiteSpace(problem.Message));
            Assert.Empty(response.PhotoId);
            Assert.Equal(photo.Kind == PhotoKind.Face ? VerificationStep.FacePhoto : VerificationStep.IdDocumentPhoto, response.Status.NextStep);
            if (photo.Kind == PhotoKind.IdDocument) Assert.DoesNotContain(await fx.KeysOf(learner), k => k.Contains(":photo:ph_", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_real_portrait_sent_at_the_id_step_is_caught_when_the_same_face_comes_at_the_face_step()
    {
        var (client, exam) = await AtStep(IdentityFixture.NewId("l"), PhotoKind.IdDocument);
        var portrait = PhotoCorpus.Get("real-grace-hopper").Bytes;
        var wrongId = await TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, portrait);
        Assert.Equal(PhotoVerdict.Accepted, wrongId.Verdict); // a good photo: only the next step can tell
        // The same picture again at the face step, stored turned by a phone (EXIF 6): the same face, caught.
        var face = await TestVerification.UploadAsync(client, exam, PhotoKind.Face, PhotoCorpus.Get("real-grace-hopper-exif6").Bytes);
        Assert.Equal(PhotoVerdict.Rejected, face.Verdict);
        Assert.Equal(PhotoProblemCode.IdPhotoShowsFace, Assert.Single(face.Problems).Code);
        Assert.Equal(VerificationStep.IdDocumentPhoto, face.Status.NextStep);
        Assert.Equal(StepState.Reopened, face.Status.Steps.Single(s => s.Step == VerificationStep.IdDocumentPhoto).State);
        // Sent again at the ID step: refused at once.
        var again = await TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, portrait);
        Assert.Equal(PhotoProblemCode.IdPhotoShowsFace, Assert.Single(again.Problems).Code);
        // A real document (the white card of issue 13), then a real face: done.
        var document = await TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, PhotoCorpus.Get("drawn-white-card-bright").Bytes);
        Assert.Equal(PhotoVerdict.Accepted, document.Verdict);
        var realFace = await TestVerification.UploadAsync(client, exam, PhotoKind.Face, PhotoCorpus.Get("real-astronaut").Bytes);
        Assert.Equal(PhotoVerdict.Accepted, realFace.Verdict);
        Assert.True(realFace.Status.MayStartExam);
    }
}
