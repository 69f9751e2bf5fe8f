using Microsoft.Extensions.Options;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Photos;
using Vigil.Testing.Images;
using Xunit.Abstractions;

namespace Vigil.Identity.Tests.Photos;

public sealed class PhotoInspectorTests(ITestOutputHelper output)
{
    private static readonly PhotoInspector Inspector = new(Options.Create(new PhotoOptions()));

    private async Task<InspectedPhoto> Inspect(byte[] data, string name)
    {
        var photo = await Inspector.InspectAsync(data, CancellationToken.None);
        output.WriteLine($"{name}: {photo.Width}x{photo.Height} {photo.Metrics} problems=[{string.Join(",", photo.Problems.Select(p => p.Code))}] hash={photo.PerceptualHash:X16}");
        return photo;
    }

    public static TheoryData<string> ValidPhotos => ["id-jpeg-0", "id-jpeg-1", "id-jpeg-7", "id-png-0", "face-jpeg-0", "face-jpeg-1", "face-jpeg-7", "face-png-0"];

    private static byte[] Valid(string name) => name switch
    {
        "id-jpeg-0" => TestImages.IdDocumentJpeg(0),
        "id-jpeg-1" => TestImages.IdDocumentJpeg(1),
        "id-jpeg-7" => TestImages.IdDocumentJpeg(7),
        "id-png-0" => TestImages.IdDocumentPng(0),
        "face-jpeg-0" => TestImages.FaceJpeg(0),
        "face-jpeg-1" => TestImages.FaceJpeg(1),
        "face-jpeg-7" => TestImages.FaceJpeg(7),
        "face-png-0" => TestImages.FacePng(0),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(ValidPhotos))]
    public async Task Valid_photos_pass_every_check_and_are_stored_as_clean_jpeg(string name)
    {
        var photo = await Inspect(Valid(name), name);
        Assert.True(photo.Accepted, string.Join("; ", photo.Problems.Select(p => p.Message)));
        Assert.Equal((TestImages.Width, TestImages.Height), (photo.Width, photo.Height));
        Assert.Equal([0xFF, 0xD8, 0xFF], photo.CleanJpeg[..3]);
        Assert.DoesNotContain("ICC_PROFILE", System.Text.Encoding.ASCII.GetString(photo.CleanJpeg), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2600, 1950)]
    [InlineData(1950, 2600)]
    public async Task A_large_photo_is_decoded_scaled_and_stored_at_the_stored_size(int width, int height)
    {
        var photo = await Inspect(TestImages.IdDocumentJpeg(1, width, height), $"id-{width}x{height}");
        Assert.True(photo.Accepted, string.Join("; ", photo.Problems.Select(p => p.Message)));
        var stored = width > height ? (2048, 1536) : (1536, 2048);
        Assert.Equal(stored, (photo.Width, photo.Height));
        var info = ImageContainer.Read(photo.CleanJpeg, 40_000_000);
        Assert.Equal(stored, (info.Width, info.Height));
        // The same picture as the 800x600 one: the hash does not depend on the size it was taken at.
        var small = await Inspect(TestImages.IdDocumentJpeg(1), "id-jpeg-1");
        if (width > height) Assert.True(PerceptualHash.Distance(small.PerceptualHash, photo.PerceptualHash) <= new PhotoOptions().NearDuplicateMaxDistance);
    }

    [Theory]
    [InlineData("dark", PhotoProblemCode.TooDark)]
    [InlineData("overexposed", PhotoProblemCode.Overexposed)]
    [InlineData("blurred", PhotoProblemCode.Blurred)]
    [InlineData("blank", PhotoProblemCode.Blank)]
    [InlineData("tiny", PhotoProblemCode.TooSmall)]
    public async Task Bad_photos_are_rejected_with_what_to_fix(string name, PhotoProblemCode expected)
    {
        var data = name switch
        {
            "dark" => TestImages.DarkJpeg(),
            "overexposed" => TestImages.OverexposedJpeg(),
            "blurred" => TestImages.BlurredJpeg(),
            "blank" => TestImages.BlankJpeg(),
            "tiny" => TestImages.TinyJpeg(),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        var photo = await Inspect(data, name);
        Assert.False(photo.Accepted);
        Assert.Equal([expected], photo.Problems.Select(p => p.Code));
        Assert.All(photo.Problems, p => Assert.False(string.IsNullOrWhiteSpace(p.Message)));
        Assert.Empty(photo.CleanJpeg);
    }

    [Fact]
    public async Task Id_document_and_face_are_far_apart_but_each_is_near_itself_reencoded()
    {
        var id = await Inspect(TestImages.IdDocumentJpeg(), "id");
        var face = await Inspect(TestImages.FaceJpeg(), "face");
        var idPng = await Inspect(TestImages.IdDocumentPng(), "id-png");
        var faceAgain = await Inspect(face.CleanJpeg, "face-clean");
        var distance = PerceptualHash.Distance(id.PerceptualHash, face.PerceptualHash);
        output.WriteLine($"id-face {distance}, id-idpng {PerceptualHash.Distance(id.PerceptualHash, idPng.PerceptualHash)}, face-clean {PerceptualHash.Distance(face.PerceptualHash, faceAgain.PerceptualHash)}");
        var limit = new PhotoOptions().NearDuplicateMaxDistance;
        Assert.True(distance > 2 * limit, $"distance {distance}");
        Assert.True(PerceptualHash.Distance(id.PerceptualHash, idPng.PerceptualHash) <= limit);
        Assert.True(PerceptualHash.Distance(face.PerceptualHash, faceAgain.PerceptualHash) <= limit);
        for (var seed = 1; seed < 6; seed++)
        {
            var otherId = await Inspect(TestImages.IdDocumentJpeg(seed), $"id{seed}");
            var otherFace = await Inspect(TestImages.FaceJpeg(seed), $"face{seed}");
            Assert.True(PerceptualHash.Distance(otherId.PerceptualHash, face.PerceptualHash) > limit);
            Assert.True(PerceptualHash.Distance(otherFace.PerceptualHash, id.PerceptualHash) > limit);
            Assert.True(PerceptualHash.Distance(otherId.PerceptualHash, otherFace.PerceptualHash) > limit);
        }
    }

    [Theory]
    [InlineData("truncated-jpeg", "Truncated")]
    [InlineData("truncated-png", "Truncated")]
    [InlineData("polyglot-jpeg", "TrailingData")]
    [InlineData("polyglot-png", "TrailingData")]
    [InlineData("huge-jpeg", "TooManyPixels")]
    [InlineData("huge-png", "TooManyPixels")]
    [InlineData("bomb", "TooManyPixels")]
    [InlineData("pdf", "NotAnImage")]
    [InlineData("webp", "UnsupportedFormat")]
    [InlineData("empty", "NotAnImage")]
    public async Task Broken_or_hostile_files_are_refused_as_files(string name, string expected)
    {
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
            "webp" => TestImages.WebP(),
            "empty" => [],
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        var ex = await Assert.ThrowsAsync<FileRefusedException>(() => Inspector.InspectAsync(data, CancellationToken.None));
        Assert.Equal(expected, ex.Refusal.ToString());
    }

    [Fact]
    public void The_bomb_is_small_but_declares_a_hundred_megapixels()
    {
        var bomb = TestImages.DecompressionBombPng();
        Assert.True(bomb.Length < 1_000_000, $"{bomb.Length} bytes");
        // The container reader alone refuses it: no pixel is decoded.
        var ex = Assert.Throws<FileRefusedException>(() => ImageContainer.Read(bomb, 40_000_000));
        Assert.Contains("10000x10000", ex.Message, StringComparison.Ordinal);
        // Under a generous limit the same file parses as a valid 10000x10000 PNG.
        Assert.Equal(new ContainerInfo(ImageFormat.Png, 10_000, 10_000), ImageContainer.Read(bomb, 200_000_000));
    }

    [Fact]
    public async Task Gps_metadata_is_gone_from_the_stored_copy_and_orientation_is_applied_first()
    {
        // As a phone writes it: the pixels stored turned (600x800), EXIF orientation 6 to show them upright (800x600).
        var withGps = TestImages.JpegWithGps(orientation: 6);
        Assert.True(ContainsExif(withGps));
        var upload = ImageContainer.Read(withGps, 40_000_000);
        Assert.Equal((TestImages.Height, TestImages.Width), (upload.Width, upload.Height));
        var photo = await Inspect(withGps, "gps");
        Assert.True(photo.Accepted);
        Assert.Equal((TestImages.Width, TestImages.Height), (photo.Width, photo.Height));
        Assert.False(ContainsExif(photo.CleanJpeg));
        Assert.DoesNotContain(TestImages.ExifCameraModel, System.Text.Encoding.ASCII.GetString(photo.CleanJpeg), StringComparison.Ordinal);
        var info = ImageContainer.Read(photo.CleanJpeg, 40_000_000);
        Assert.Equal((TestImages.Width, TestImages.Height), (info.Width, info.Height));
        // Upright, it is the same picture as the document taken upright: the orientation was applied, not ignored.
        var upright = await Inspect(TestImages.IdDocumentJpeg(0), "id-0");
        Assert.True(PerceptualHash.Distance(upright.PerceptualHash, photo.PerceptualHash) <= new PhotoOptions().NearDuplicateMaxDistance);
    }

    private static bool ContainsExif(byte[] jpeg) => jpeg.AsSpan().IndexOf("Exif\0\0"u8) >= 0;
}
