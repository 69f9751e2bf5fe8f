using Grpc.Core;
using SkiaSharp;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Tests.Infrastructure;
using Vigil.Testing;
using Vigil.Testing.Images;

namespace Vigil.Identity.Tests.Photos;

/// <summary>UploadPhoto through the service: verdicts with what to fix, refused files, limits, clean stored copies.</summary>
[Collection(IdentityCollection.Name)]
public sealed class UploadPhotoTests(IdentityFixture fx)
{
    private async Task<(IdentityService.IdentityServiceClient Client, string Exam)> AtIdStep(string learner)
    {
        var exam = IdentityFixture.NewId("exam");
        var client = fx.Learner(learner);
        foreach (var step in new[] { VerificationStep.SystemCheck, VerificationStep.MicrophoneTest })
        {
            await client.CompleteVerificationStepAsync(new CompleteVerificationStepRequest { RequestId = Guid.NewGuid().ToString("N"), ExamId = exam, Step = step, Passed = true });
        }
        return (client, exam);
    }

    [Theory]
    [InlineData("dark", PhotoProblemCode.TooDark)]
    [InlineData("overexposed", PhotoProblemCode.Overexposed)]
    [InlineData("blurred", PhotoProblemCode.Blurred)]
    [InlineData("blank", PhotoProblemCode.Blank)]
    [InlineData("tiny", PhotoProblemCode.TooSmall)]
    public async Task A_poor_photo_is_rejected_with_what_to_fix_and_the_step_stays_open(string name, PhotoProblemCode expected)
    {
        var learner = IdentityFixture.NewId("l");
        var (client, exam) = await AtIdStep(learner);
        var data = name switch
        {
            "dark" => TestImages.DarkJpeg(),
            "overexposed" => TestImages.OverexposedJpeg(),
            "blurred" => TestImages.BlurredJpeg(),
            "blank" => TestImages.BlankJpeg(),
            _ => TestImages.TinyJpeg(),
        };
        var response = await TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, data);
        Assert.Equal(PhotoVerdict.Rejected, response.Verdict);
        Assert.Equal(expected, Assert.Single(response.Problems).Code);
        Assert.False(string.IsNullOrWhiteSpace(response.Problems[0].Message));
        Assert.Empty(response.PhotoId);
        Assert.Equal(VerificationStep.IdDocumentPhoto, response.Status.NextStep);
        Assert.DoesNotContain(await fx.KeysOf(learner), k => k.Contains(":photo:ph_", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("truncated-jpeg")]
    [InlineData("truncated-png")]
    [InlineData("polyglot-jpeg")]
    [InlineData("polyglot-png")]
    [InlineData("huge-jpeg")]
    [InlineData("huge-png")]
    [InlineData("bomb")]
    [InlineData("pdf")]
    [InlineData("webp")]
    public async Task A_broken_or_hostile_file_is_refused_with_invalid_argument_and_nothing_is_stored(string name)
    {
        var learner = IdentityFixture.NewId("l");
        var (client, exam) = await AtIdStep(learner);
        var data = name switch
        {
            "truncated-jpeg" => TestImages.TruncatedJpeg(),
            "truncated-png" => TestImages.TruncatedPng(),
            "polyglot-jpeg" => TestImages.PolyglotJpeg(),
            "polyglot-png" => TestImages.PolyglotPng(),
            "huge-jpeg" => TestImages.HugeDeclaredJpeg(),
            "huge-png" => TestImages.HugeDeclaredPng(),
            "bomb" => TestImages.DecompressionBombPng(),
            "pdf" => TestImages.NotAnImage(),
            _ => TestImages.WebP(),
        };
        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument,
            () => TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, data));
        var violation = Assert.Single(RpcAssert.FieldViolations(ex));
        Assert.Equal("chunk", violation.Field);
        Assert.False(string.IsNullOrWhiteSpace(violation.Description));
        Assert.DoesNotContain(await fx.KeysOf(learner), k => k.Contains(":photo:ph_", StringComparison.Ordinal));
        var status = (await client.GetVerificationStatusAsync(new GetVerificationStatusRequest { ExamId = exam })).Status;
        Assert.Equal(VerificationStep.IdDocumentPhoto, status.NextStep);
    }

    [Fact]
    public async Task A_png_is_accepted_and_stored_as_jpeg()
    {
        var (client, exam) = await AtIdStep(IdentityFixture.NewId("l"));
        var response = await TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, TestImages.IdDocumentPng(), chunkSize: 100_000);
        Assert.Equal(PhotoVerdict.Accepted, response.Verdict);
        var photo = await client.GetPhotoAsync(new GetPhotoRequest { ExamId = exam, Kind = PhotoKind.IdDocument });
        Assert.Equal([0xFF, 0xD8, 0xFF], photo.Data.Span[..3].ToArray());
    }

    [Fact]
    public async Task Gps_and_all_exif_are_stripped_from_the_stored_copy_after_applying_orientation()
    {
        var (client, exam) = await AtIdStep(IdentityFixture.NewId("l"));
        var upload = TestImages.JpegWithGps(orientation: 6);
        Assert.True(upload.AsSpan().IndexOf("Exif\0\0"u8) >= 0);
        var response = await TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, upload);
        Assert.Equal(PhotoVerdict.Accepted, response.Verdict);
        var stored = (await client.GetPhotoAsync(new GetPhotoRequest { ExamId = exam, Kind = PhotoKind.IdDocument })).Data.ToByteArray();
        Assert.Equal(-1, stored.AsSpan().IndexOf("Exif"u8));
        Assert.Equal(-1, stored.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(TestImages.ExifCameraModel)));
        Assert.DoesNotContain(stored.Select((b, i) => (b, i)), x => x.b == 0xFF && x.i + 1 < stored.Length && stored[x.i + 1] == 0xE1); // no APP1 at all
        using var codec = SKCodec.Create(new SKMemoryStream(stored));
        Assert.Equal(SKEncodedOrigin.TopLeft, codec.EncodedOrigin);
        Assert.Equal((TestImages.Width, TestImages.Height), (codec.Info.Width, codec.Info.Height)); // stored turned (600x800), now upright
    }

    [Fact]
    public async Task An_upload_over_the_cap_is_refused_early_with_resource_exhausted()
    {
        var (client, exam) = await AtIdStep(IdentityFixture.NewId("l"));
        // Declared over the cap: refused on the metadata, before any byte.
        var ex = await RpcAssert.ThrowsAsync(StatusCode.ResourceExhausted,
            () => TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, TestImages.IdDocumentJpeg(), declaredSize: 11L * 1024 * 1024));
        Assert.Contains("larger than", ex.Status.Detail, StringComparison.Ordinal);
        // Declared small, sent large: refused as soon as the stream passes the cap.
        var big = new byte[11 * 1024 * 1024];
        TestImages.IdDocumentJpeg().CopyTo(big, 0);
        await RpcAssert.ThrowsAsync(StatusCode.ResourceExhausted,
            () => TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, big, chunkSize: 1024 * 1024, declaredSize: 0));
    }

    [Fact]
    public async Task A_cut_upload_is_refused_when_fewer_bytes_arrive_than_declared()
    {
        var (client, exam) = await AtIdStep(IdentityFixture.NewId("l"));
        var data = TestImages.IdDocumentJpeg();
        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument,
            () => TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, data, declaredSize: data.Length + 10));
        Assert.Contains("declared", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upload_must_start_with_metadata()
    {
        var (client, exam) = await AtIdStep(IdentityFixture.NewId("l"));
        using var call = client.UploadPhoto();
        try
        {
            await call.RequestStream.WriteAsync(new UploadPhotoRequest { Chunk = Google.Protobuf.ByteString.CopyFrom(TestImages.IdDocumentJpeg()) });
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The server may answer before the client finished writing.
        }
        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, () => call.ResponseAsync);
        Assert.Equal("metadata", Assert.Single(RpcAssert.FieldViolations(ex)).Field);
        _ = exam;
    }
}
