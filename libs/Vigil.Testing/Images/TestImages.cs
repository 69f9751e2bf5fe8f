using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SkiaSharp;

namespace Vigil.Testing.Images;

/// <summary>
/// Deterministic photos made by the tests themselves (no files, no network): an ID document and a face
/// that pass every check of the identity service (well exposed, sharp, not blank, 800x600, far apart by
/// perceptual hash), and the bad ones the identity tests need (dark, overexposed, blurred, blank, tiny,
/// truncated, polyglot, huge declared dimensions, decompression bomb, GPS metadata, not an image).
/// Same seed, same bytes.
/// </summary>
public static class TestImages
{
    /// <summary>Width of the valid photos.</summary>
    public const int Width = 800;

    /// <summary>Height of the valid photos.</summary>
    public const int Height = 600;

    /// <summary>The GPS latitude written by <see cref="JpegWithGps"/>: 48° 51' 29" N, as ASCII-free rationals.</summary>
    public static readonly uint[] GpsLatitude = [48, 1, 51, 1, 29, 1];

    /// <summary>The GPS longitude written by <see cref="JpegWithGps"/>: 2° 17' 40" E.</summary>
    public static readonly uint[] GpsLongitude = [2, 1, 17, 1, 40, 1];

    /// <summary>A photo of an ID card on a desk: card, header band, text-like lines, a small portrait box, MRZ lines.</summary>
    public static byte[] IdDocumentJpeg(int seed = 0) => EncodeJpeg(IdDocumentBitmap(seed, Width, Height));

    /// <summary>The same ID document drawn at another size (e.g. a phone's 4000x3000), for benchmarks.</summary>
    public static byte[] IdDocumentJpeg(int seed, int width, int height) => EncodeJpeg(IdDocumentBitmap(seed, width, height));

    /// <summary>The same ID document as a PNG.</summary>
    public static byte[] IdDocumentPng(int seed = 0) => EncodePng(IdDocumentBitmap(seed, Width, Height));

    /// <summary>A face-like drawing: head oval, hair, eyes, mouth, shoulders, in front of a wall.</summary>
    public static byte[] FaceJpeg(int seed = 0) => EncodeJpeg(FaceBitmap(seed, Width, Height));

    /// <summary>The same face drawn at another size, for benchmarks.</summary>
    public static byte[] FaceJpeg(int seed, int width, int height) => EncodeJpeg(FaceBitmap(seed, width, height));

    /// <summary>The same face as a PNG.</summary>
    public static byte[] FacePng(int seed = 0) => EncodePng(FaceBitmap(seed, Width, Height));

    /// <summary>The ID document, badly under-exposed (mean luminance around 15 of 255).</summary>
    public static byte[] DarkJpeg(int seed = 0) => EncodeJpeg(Transform(IdDocumentBitmap(seed, Width, Height), c => (byte)(c * 0.1)));

    /// <summary>The ID document, washed out (mean luminance around 245 of 255).</summary>
    public static byte[] OverexposedJpeg(int seed = 0) => EncodeJpeg(Transform(IdDocumentBitmap(seed, Width, Height), c => (byte)(255 - ((255 - c) * 0.1))));

    /// <summary>The ID document, out of focus (Gaussian blur, sigma 9).</summary>
    public static byte[] BlurredJpeg(int seed = 0)
    {
        using var sharp = IdDocumentBitmap(seed, Width, Height);
        var blurred = new SKBitmap(Width, Height);
        using (var canvas = new SKCanvas(blurred))
        using (var paint = new SKPaint { ImageFilter = SKImageFilter.CreateBlur(9, 9, SKShaderTileMode.Clamp) })
        {
            canvas.DrawBitmap(sharp, 0, 0, paint);
        }
        return EncodeJpeg(blurred);
    }

    /// <summary>One flat grey, as when the lens is covered.</summary>
    public static byte[] BlankJpeg()
    {
        var bitmap = new SKBitmap(Width, Height);
        bitmap.Erase(new SKColor(128, 128, 128));
        return EncodeJpeg(bitmap);
    }

    /// <summary>The ID document at 200x150, under the minimum resolution.</summary>
    public static byte[] TinyJpeg(int seed = 0) => EncodeJpeg(IdDocumentBitmap(seed, 200, 150));

    /// <summary>The ID document's JPEG cut at 60 % of its bytes (an interrupted upload).</summary>
    public static byte[] TruncatedJpeg(int seed = 0)
    {
        var full = IdDocumentJpeg(seed);
        return full[..(full.Length * 6 / 10)];
    }

    /// <summary>The ID document's PNG cut at 60 % of its bytes.</summary>
    public static byte[] TruncatedPng(int seed = 0)
    {
        var full = IdDocumentPng(seed);
        return full[..(full.Length * 6 / 10)];
    }

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
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(29), Crc32(bytes.AsSpan(12, 17)));
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
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", idat.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>
    /// The ID document as a JPEG with an EXIF block holding GPS coordinates (<see cref="GpsLatitude"/>,
    /// <see cref="GpsLongitude"/>), a camera model "VigilTestCam" and an orientation tag (1 = upright,
    /// 6 = rotate 90° clockwise to display: the stored copy must then be 600x800).
    /// </summary>
    public static byte[] JpegWithGps(int seed = 0, ushort orientation = 1)
    {
        var jpeg = IdDocumentJpeg(seed);
        var exif = ExifSegment(orientation);
        // Insert the APP1 segment right after SOI.
        return [.. jpeg.AsSpan(0, 2), .. exif, .. jpeg.AsSpan(2)];
    }

    /// <summary>The camera model written into <see cref="JpegWithGps"/>'s EXIF block.</summary>
    public const string ExifCameraModel = "VigilTestCam";

    /// <summary>Bytes that are no image at all (a tiny PDF header and text).</summary>
    public static byte[] NotAnImage() => Encoding.ASCII.GetBytes("%PDF-1.4\n% not a photo\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n");

    /// <summary>A valid image of a format the service does not take (WebP).</summary>
    public static byte[] WebP(int seed = 0)
    {
        using var bitmap = IdDocumentBitmap(seed, Width, Height);
        using var data = bitmap.Encode(SKEncodedImageFormat.Webp, 90);
        return data.ToArray();
    }

    // ---- drawing ----

    private static SKBitmap IdDocumentBitmap(int seed, int width, int height)
    {
        var rnd = new Random(unchecked(seed * 7919 + 17));
        return Render(width, height, rnd, (canvas, r) =>
        {
            var desk = r.Next(-15, 16);
            canvas.Clear(new SKColor((byte)(115 + desk), (byte)(92 + desk), (byte)(70 + desk)));
            using var paint = new SKPaint { IsAntialias = true };
            // A few darker grain streaks on the desk.
            paint.Color = new SKColor(90, 70, 52);
            for (var i = 0; i < 12; i++)
            {
                var y = r.Next(0, 600);
                canvas.DrawRect(0, y, 800, 2 + r.Next(0, 3), paint);
            }
            float dx = r.Next(-25, 26), dy = r.Next(-20, 21);
            var card = new SKRect(90 + dx, 105 + dy, 710 + dx, 495 + dy);
            paint.Color = new SKColor(60, 60, 60, 90);
            canvas.DrawRoundRect(new SKRect(card.Left + 6, card.Top + 8, card.Right + 6, card.Bottom + 8), 22, 22, paint); // shadow
            paint.Color = new SKColor(226, 233, 241);
            canvas.DrawRoundRect(card, 22, 22, paint);
            // Header band with "title" bars.
            paint.Color = new SKColor(28, 62, 125);
            canvas.Save();
            canvas.ClipRoundRect(new SKRoundRect(card, 22, 22));
            canvas.DrawRect(card.Left, card.Top, card.Width, 70, paint);
            canvas.Restore();
            paint.Color = new SKColor(235, 240, 250);
            canvas.DrawRect(card.Left + 30, card.Top + 22, 260 + r.Next(0, 60), 12, paint);
            canvas.DrawRect(card.Left + 30, card.Top + 42, 160 + r.Next(0, 60), 8, paint);
            // Portrait box with a small silhouette.
            var portrait = new SKRect(card.Left + 30, card.Top + 95, card.Left + 175, card.Top + 285);
            paint.Color = new SKColor(172, 176, 184);
            canvas.DrawRect(portrait, paint);
            paint.Color = new SKColor(92, 86, 84);
            canvas.DrawOval(portrait.MidX, portrait.Top + 70, 36, 45, paint);
            canvas.DrawOval(portrait.MidX, portrait.Bottom, 62, 55, paint);
            // Text-like lines: label (light) and value (dark).
            for (var i = 0; i < 6; i++)
            {
                var y = card.Top + 100 + (i * 31);
                paint.Color = new SKColor(130, 140, 160);
                canvas.DrawRect(card.Left + 200, y, 70 + r.Next(0, 40), 7, paint);
                paint.Color = new SKColor(35, 38, 48);
                canvas.DrawRect(card.Left + 200, y + 11, 140 + r.Next(0, 230), 12, paint);
            }
            // Signature scribble.
            paint.Style = SKPaintStyle.Stroke;
            paint.StrokeWidth = 3;
            paint.Color = new SKColor(30, 40, 110);
            using (var path = new SKPath())
            {
                path.MoveTo(card.Left + 420, card.Top + 300);
                for (var i = 1; i <= 8; i++) path.LineTo(card.Left + 420 + (i * 18), card.Top + 290 + r.Next(0, 25));
                canvas.DrawPath(path, paint);
            }
            paint.Style = SKPaintStyle.Fill;
            // Machine-readable zone: two rows of small blocks.
            paint.Color = new SKColor(45, 45, 50);
            for (var row = 0; row < 2; row++)
            {
                for (var i = 0; i < 36; i++)
                {
                    if (r.Next(0, 5) == 0) continue;
                    canvas.DrawRect(card.Left + 30 + (i * 15.5f), card.Top + 322 + (row * 24), 10, 14, paint);
                }
            }
        });
    }

    private static SKBitmap FaceBitmap(int seed, int width, int height)
    {
        var rnd = new Random(unchecked(seed * 104729 + 3));
        return Render(width, height, rnd, (canvas, r) =>
        {
            using var paint = new SKPaint { IsAntialias = true };
            var wall = r.Next(-12, 13);
            using (var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(0, 600),
                [new SKColor((byte)(88 + wall), (byte)(112 + wall), (byte)(142 + wall)), new SKColor((byte)(150 + wall), (byte)(158 + wall), (byte)(168 + wall))],
                SKShaderTileMode.Clamp))
            {
                paint.Shader = shader;
                canvas.DrawRect(0, 0, 800, 600, paint);
                paint.Shader = null;
            }
            // A picture frame on the wall, left.
            paint.Color = new SKColor(70, 50, 40);
            canvas.DrawRect(40, 60, 120, 160, paint);
            paint.Color = new SKColor(190, 200, 170);
            canvas.DrawRect(52, 72, 96, 136, paint);
            float dx = r.Next(-20, 21), dy = r.Next(-12, 13);
            var skin = new SKColor((byte)(222 + r.Next(-10, 11)), (byte)(176 + r.Next(-10, 11)), (byte)(146 + r.Next(-10, 11)));
            // Shoulders and shirt.
            paint.Color = new SKColor(38, 48, 82);
            canvas.DrawOval(400 + dx, 640, 300, 170, paint);
            // Neck.
            paint.Color = skin;
            canvas.DrawRect(355 + dx, 420 + dy, 90, 90, paint);
            // Hair behind the head.
            paint.Color = new SKColor(58, 40, 30);
            canvas.DrawOval(400 + dx, 255 + dy, 165, 190, paint);
            // Face.
            paint.Color = skin;
            canvas.DrawOval(400 + dx, 290 + dy, 140, 180, paint);
            // Fringe.
            paint.Color = new SKColor(58, 40, 30);
            canvas.DrawOval(400 + dx, 150 + dy, 135, 60, paint);
            // Eyes.
            foreach (var ex in new[] { 345f, 455f })
            {
                paint.Color = SKColors.White;
                canvas.DrawOval(ex + dx, 270 + dy, 28, 14, paint);
                paint.Color = new SKColor(60, 90, 60);
                canvas.DrawCircle(ex + dx, 270 + dy, 10, paint);
                paint.Color = SKColors.Black;
                canvas.DrawCircle(ex + dx, 270 + dy, 5, paint);
                paint.Color = new SKColor(58, 40, 30);
                canvas.DrawRect(ex + dx - 32, 236 + dy, 64, 8, paint);
            }
            // Nose and mouth.
            paint.Color = new SKColor((byte)(skin.Red - 45), (byte)(skin.Green - 45), (byte)(skin.Blue - 45));
            canvas.DrawRect(396 + dx, 285 + dy, 8, 60, paint);
            canvas.DrawOval(400 + dx, 348 + dy, 22, 8, paint);
            paint.Color = new SKColor(165, 70, 72);
            canvas.DrawOval(400 + dx, 392 + dy, 48, 14, paint);
        });
    }

    /// <summary>Draws on an 800x600 logical canvas scaled to the size, then adds a little sensor noise.</summary>
    private static SKBitmap Render(int width, int height, Random rnd, Action<SKCanvas, Random> draw)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Scale(width / 800f, height / 600f);
            draw(canvas, rnd);
        }
        var pixels = bitmap.GetPixelSpan();
        for (var i = 0; i < pixels.Length; i += 4)
        {
            var n = rnd.Next(-5, 6);
            for (var c = 0; c < 3; c++) pixels[i + c] = (byte)Math.Clamp(pixels[i + c] + n, 0, 255);
        }
        return bitmap;
    }

    private static SKBitmap Transform(SKBitmap bitmap, Func<byte, byte> channel)
    {
        var pixels = bitmap.GetPixelSpan();
        for (var i = 0; i < pixels.Length; i += 4)
        {
            for (var c = 0; c < 3; c++) pixels[i + c] = channel(pixels[i + c]);
        }
        return bitmap;
    }

    private static byte[] EncodeJpeg(SKBitmap bitmap)
    {
        using (bitmap)
        using (var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 92))
        {
            return data.ToArray();
        }
    }

    private static byte[] EncodePng(SKBitmap bitmap)
    {
        using (bitmap)
        using (var data = bitmap.Encode(SKEncodedImageFormat.Png, 100))
        {
            return data.ToArray();
        }
    }

    // ---- byte-level helpers ----

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

    private static byte[] ExifSegment(ushort orientation)
    {
        // Big-endian TIFF: header (8), IFD0 with 3 entries, GPS IFD with 5 entries, then values.
        var model = Encoding.ASCII.GetBytes(ExifCameraModel + "\0");
        const int ifd0 = 8;
        const int ifd0Size = 2 + (3 * 12) + 4;
        const int gpsIfd = ifd0 + ifd0Size;
        const int gpsSize = 2 + (5 * 12) + 4;
        var modelOffset = gpsIfd + gpsSize;
        var latOffset = modelOffset + model.Length;
        var lonOffset = latOffset + 24;
        var b = new List<byte>();
        void U16(int v) { b.Add((byte)(v >> 8)); b.Add((byte)v); }
        void U32(long v) { b.Add((byte)(v >> 24)); b.Add((byte)(v >> 16)); b.Add((byte)(v >> 8)); b.Add((byte)v); }
        void Entry(int tag, int type, int count, long valueOrOffset, bool shortValue = false)
        {
            U16(tag); U16(type); U32(count);
            if (shortValue) { U16((int)valueOrOffset); U16(0); } else U32(valueOrOffset);
        }
        b.AddRange("MM"u8.ToArray()); U16(42); U32(ifd0);
        U16(3);
        Entry(0x0110, 2, model.Length, modelOffset);       // Model
        Entry(0x0112, 3, 1, orientation, shortValue: true); // Orientation
        Entry(0x8825, 4, 1, gpsIfd);                       // GPS IFD pointer
        U32(0);
        U16(5);
        b.AddRange(new byte[] { 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 2, 3, 0, 0 }); // GPSVersionID (BYTE x4)
        b.AddRange(new byte[] { 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, (byte)'N', 0, 0, 0 }); // GPSLatitudeRef
        Entry(0x0002, 5, 3, latOffset);                    // GPSLatitude
        b.AddRange(new byte[] { 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, (byte)'E', 0, 0, 0 }); // GPSLongitudeRef
        Entry(0x0004, 5, 3, lonOffset);                    // GPSLongitude
        U32(0);
        b.AddRange(model);
        foreach (var v in GpsLatitude) U32(v);
        foreach (var v in GpsLongitude) U32(v);
        var payload = new List<byte>("Exif\0\0"u8.ToArray());
        payload.AddRange(b);
        var segment = new List<byte> { 0xFF, 0xE1 };
        var length = payload.Count + 2;
        segment.Add((byte)(length >> 8));
        segment.Add((byte)length);
        segment.AddRange(payload);
        return [.. segment];
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        Span<byte> u32 = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(u32, (uint)data.Length);
        png.Write(u32);
        var typeAndData = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, typeAndData);
        data.CopyTo(typeAndData, 4);
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(u32, Crc32(typeAndData));
        png.Write(u32);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var x in data)
        {
            crc ^= x;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
