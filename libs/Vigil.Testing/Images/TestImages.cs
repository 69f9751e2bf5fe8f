using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SkiaSharp;
using Vigil.SamplePhotos;

namespace Vigil.Testing.Images;

/// <summary>
/// The photos the tests send, drawn by <c>Vigil.SamplePhotos</c> like the client's demo and the benchmark's: an
/// ordinary ID document filling the frame, taken with a phone (white, pastel, dark or patterned, a card or a passport
/// page, by seed), and an ordinary webcam portrait. Then the bad ones, made the way they happen: the same document
/// very dark, washed out, out of focus, a blank frame, a thumbnail, a cut file, a polyglot, a header declaring huge
/// dimensions, a decompression bomb, GPS metadata, not an image. Same seed, same bytes.
/// </summary>
public static class TestImages
{
    /// <summary>Width of the ordinary photos.</summary>
    public const int Width = 800;

    /// <summary>Height of the ordinary photos.</summary>
    public const int Height = 600;

    /// <summary>The GPS latitude written by <see cref="JpegWithGps"/>: 48° 51' 29" N, as rationals.</summary>
    public static readonly uint[] GpsLatitude = [48, 1, 51, 1, 29, 1];

    /// <summary>The GPS longitude written by <see cref="JpegWithGps"/>: 2° 17' 40" E.</summary>
    public static readonly uint[] GpsLongitude = [2, 1, 17, 1, 40, 1];

    /// <summary>The camera model written into <see cref="JpegWithGps"/>'s EXIF block.</summary>
    public const string ExifCameraModel = "VigilTestCam";

    /// <summary>Exposure settings for the bad photos: seven and a half stops under, with the noise a camera adds when it pushes that little light.</summary>
    public static Camera VeryDark { get; } = Camera.Phone with { ExposureEv = -7.5, Noise = 8 };

    /// <summary>Two and a half stops over with strong veiling glare: a lamp shining into the lens, the print fades into the white.</summary>
    public static Camera WashedOut { get; } = Camera.Phone with { ExposureEv = 2.5, Flare = 0.85 };

    /// <summary>Badly out of focus (sigma 8 pixels at 800 wide).</summary>
    public static Camera OutOfFocus { get; } = Camera.Phone with { FocusBlur = 8 };

    /// <summary>The phone moved during the shot (30 pixels at 800 wide).</summary>
    public static Camera Shaken { get; } = Camera.Phone with { MotionBlur = 30 };

    /// <summary>An ID-document photo: the document fills the frame, phone camera (<see cref="DrawnPhotos.SceneFor"/>).</summary>
    public static byte[] IdDocumentJpeg(int seed = 0) => DrawnPhotos.IdDocumentJpeg(seed);

    /// <summary>The same ID document drawn at another size (e.g. a phone's 4000x3000), for benchmarks.</summary>
    public static byte[] IdDocumentJpeg(int seed, int width, int height) => DrawnPhotos.IdDocumentJpeg(seed, width, height);

    /// <summary>The same ID document as a PNG.</summary>
    public static byte[] IdDocumentPng(int seed = 0) => Png(IdDocument(seed, Camera.Phone));

    /// <summary>The ID document of <paramref name="seed"/> as <paramref name="camera"/> takes it, JPEG.</summary>
    public static byte[] IdDocumentJpeg(int seed, Camera camera, int width = Width, int height = Height) => Jpeg(IdDocument(seed, camera, width, height));

    /// <summary>A webcam portrait: a person at a desk, head and shoulders.</summary>
    public static byte[] FaceJpeg(int seed = 0) => DrawnPhotos.PortraitJpeg(seed);

    /// <summary>The same portrait at another size, for benchmarks.</summary>
    public static byte[] FaceJpeg(int seed, int width, int height) => DrawnPhotos.PortraitJpeg(seed, width, height);

    /// <summary>The same portrait as a PNG.</summary>
    public static byte[] FacePng(int seed = 0) => Png(Camera.Webcam.Shoot(DrawnPhotos.Portrait(seed, Width, Height), seed));

    /// <summary>The ID document seven and a half stops under-exposed (<see cref="VeryDark"/>).</summary>
    public static byte[] DarkJpeg(int seed = 0) => IdDocumentJpeg(seed, VeryDark);

    /// <summary>The ID document washed out by glare (<see cref="WashedOut"/>): the print barely shows.</summary>
    public static byte[] OverexposedJpeg(int seed = 0) => IdDocumentJpeg(seed, WashedOut);

    /// <summary>The ID document badly out of focus (<see cref="OutOfFocus"/>).</summary>
    public static byte[] BlurredJpeg(int seed = 0) => IdDocumentJpeg(seed, OutOfFocus);

    /// <summary>One flat grey, as when the lens is covered.</summary>
    public static byte[] BlankJpeg() => Flat(new SKColor(128, 128, 128), noise: 0);

    /// <summary>One flat colour, with sensor noise of <paramref name="noise"/> levels (a covered lens, a black or white frame).</summary>
    public static byte[] Flat(SKColor color, double noise, int width = Width, int height = Height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        bitmap.Erase(color);
        return Jpeg(new Camera(FocusBlur: 0, Noise: noise, Vignette: 0).Shoot(bitmap, 1));
    }

    /// <summary>The ID document at 200x150, under the minimum resolution.</summary>
    public static byte[] TinyJpeg(int seed = 0) => IdDocumentJpeg(seed, 200, 150);

    /// <summary>The ID document's JPEG cut at 60 % of its bytes (an interrupted upload).</summary>
    public static byte[] TruncatedJpeg(int seed = 0) => Cut(IdDocumentJpeg(seed), 0.6);

    /// <summary>The ID document's PNG cut at 60 % of its bytes.</summary>
    public static byte[] TruncatedPng(int seed = 0) => Cut(IdDocumentPng(seed), 0.6);

    /// <summary>The first <paramref name="share"/> of <paramref name="file"/>'s bytes.</summary>
    public static byte[] Cut(byte[] file, double share) => file[..(int)(file.Length * share)];

    /// <summary>A valid ID-document JPEG with a ZIP archive appended after its end marker (a polyglot).</summary>
    public static byte[] PolyglotJpeg(int seed = 0) => [.. IdDocumentJpeg(seed), .. SmallZip()];

    /// <summary>A valid ID-document PNG with a ZIP archive appended after its IEND chunk.</summary>
    public static byte[] PolyglotPng(int seed = 0) => [.. IdDocumentPng(seed), .. SmallZip()];

    /// <summary>A small JPEG whose frame header declares 65535x65535 pixels (its data is a 800x600 image).</summary>
    public static byte[] HugeDeclaredJpeg(int seed = 0)
    {
        var bytes = IdDocumentJpeg(seed);
        var sof = FindSof(bytes);
        // SOFn: FF Cn, length (2), precision (1), height (2), width (2).
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(sof + 5), 65535);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(sof + 7), 65535);
        return bytes;
    }

    /// <summary>A small PNG whose header declares 100000x100000 pixels (CRC fixed, so it parses).</summary>
    public static byte[] HugeDeclaredPng(int seed = 0)
    {
        var bytes = IdDocumentPng(seed);
        // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4), ..., CRC over type+data (13 bytes).
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), 100_000);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), 100_000);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(29), PhotoFiles.Crc32(bytes.AsSpan(12, 17)));
        return bytes;
    }

    /// <summary>
    /// A decompression bomb: a genuine, fully valid 10000x10000 greyscale PNG (100 megapixels) of about
    /// 100 KB. Decoding it in full would take 400 MB as RGBA.
    /// </summary>
    public static byte[] DecompressionBombPng(int side = 10_000)
    {
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[side + 1]; // filter byte 0, then black pixels
            for (var y = 0; y < side; y++) z.Write(row);
        }
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)side);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)side);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 0; // greyscale
        PhotoFiles.WritePngChunk(png, "IHDR", ihdr);
        PhotoFiles.WritePngChunk(png, "IDAT", idat.ToArray());
        PhotoFiles.WritePngChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>
    /// The ID document as a phone writes it: an EXIF block with GPS coordinates (<see cref="GpsLatitude"/>,
    /// <see cref="GpsLongitude"/>), the camera model "VigilTestCam" and an orientation (1 = upright; 6 = the stored
    /// pixels are turned, to be rotated 90° clockwise for display: the stored copy must then be 600x800, upright).
    /// </summary>
    public static byte[] JpegWithGps(int seed = 0, ushort orientation = 1)
    {
        using var upright = IdDocument(seed, Camera.Phone);
        using var stored = PhotoFiles.StoredFor(upright, orientation is 1 or 3 or 6 or 8 ? orientation : (ushort)1);
        return PhotoFiles.WithExif(PhotoFiles.Jpeg(stored), orientation, ExifCameraModel, GpsLatitude, GpsLongitude);
    }

    /// <summary>Bytes that are no image at all (a tiny PDF header and text).</summary>
    public static byte[] NotAnImage() => Encoding.ASCII.GetBytes("%PDF-1.4\n% not a photo\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n");

    /// <summary>A valid image of a format the service does not take (WebP).</summary>
    public static byte[] WebP(int seed = 0)
    {
        using var bitmap = IdDocument(seed, Camera.Phone);
        using var data = bitmap.Encode(SKEncodedImageFormat.Webp, 90);
        return data.ToArray();
    }

    /// <summary>The drawn ID document of <paramref name="seed"/>, taken by <paramref name="camera"/> (the caller disposes it).</summary>
    public static SKBitmap IdDocument(int seed, Camera camera, int width = Width, int height = Height) =>
        camera.Shoot(DrawnPhotos.Document(DrawnPhotos.SceneFor(seed), seed, width, height), seed);

    /// <summary>A JPEG (quality 90) of <paramref name="bitmap"/>, which it disposes.</summary>
    public static byte[] Jpeg(SKBitmap bitmap, int quality = 90)
    {
        using (bitmap) return PhotoFiles.Jpeg(bitmap, quality);
    }

    /// <summary>A PNG of <paramref name="bitmap"/>, which it disposes.</summary>
    public static byte[] Png(SKBitmap bitmap)
    {
        using (bitmap) return PhotoFiles.Png(bitmap);
    }

    private static byte[] SmallZip()
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            var entry = zip.CreateEntry("payload.txt");
            using var w = new StreamWriter(entry.Open());
            w.Write("This archive rides behind an image. It must never be stored.");
        }
        return ms.ToArray();
    }

    private static int FindSof(byte[] jpeg)
    {
        var i = 2;
        while (i + 4 < jpeg.Length)
        {
            if (jpeg[i] != 0xFF) throw new InvalidOperationException("Unexpected JPEG layout.");
            var marker = jpeg[i + 1];
            if (marker is >= 0xC0 and <= 0xCF && marker is not 0xC4 and not 0xC8 and not 0xCC) return i;
            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(i + 2));
            i += 2 + length;
        }
        throw new InvalidOperationException("No SOF marker.");
    }
}
