using System.Buffers.Binary;

namespace Vigil.Identity.Photos;

/// <summary>The two formats the service takes.</summary>
internal enum ImageFormat
{
    Jpeg,
    Png,
}

/// <summary>What the container says before any pixel is decoded.</summary>
internal sealed record ContainerInfo(ImageFormat Format, int Width, int Height);

/// <summary>Why a file is refused before its pixels are looked at.</summary>
internal enum FileRefusal
{
    NotAnImage,
    UnsupportedFormat,
    Truncated,
    Corrupt,
    TrailingData,
    TooManyPixels,
}

/// <summary>A file refused as a file (not as a photo): the message says what is wrong.</summary>
internal sealed class FileRefusedException(FileRefusal refusal, string message, Exception? inner = null) : Exception(message, inner)
{
    public FileRefusal Refusal { get; } = refusal;
}

/// <summary>
/// Reads a file's format from its magic bytes and walks its container structure (JPEG segments up to EOI,
/// PNG chunks up to IEND) without decoding: declared dimensions, truncation, and anything appended after
/// the image's end (a polyglot). The file name and the client's declared type are never trusted.
/// </summary>
internal static class ImageContainer
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static ContainerInfo Read(ReadOnlySpan<byte> data, long maxPixels)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ReadJpeg(data, maxPixels);
        if (data.StartsWith(PngSignature)) return ReadPng(data, maxPixels);
        if (LooksLikeOtherImage(data))
        {
            throw new FileRefusedException(FileRefusal.UnsupportedFormat, "This image format is not accepted: send a JPEG or PNG photo.");
        }
        throw new FileRefusedException(FileRefusal.NotAnImage, "The file is not an image: send a JPEG or PNG photo.");
    }

    private static bool LooksLikeOtherImage(ReadOnlySpan<byte> d) =>
        d.StartsWith("GIF8"u8)
        || (d.Length >= 12 && d.StartsWith("RIFF"u8) && d[8..12].SequenceEqual("WEBP"u8))
        || d.StartsWith("BM"u8)
        || (d.Length >= 12 && d[4..8].SequenceEqual("ftyp"u8))
        || d.StartsWith((ReadOnlySpan<byte>)[0x49, 0x49, 0x2A, 0x00]) || d.StartsWith((ReadOnlySpan<byte>)[0x4D, 0x4D, 0x00, 0x2A]);

    private static ContainerInfo ReadJpeg(ReadOnlySpan<byte> d, long maxPixels)
    {
        var i = 2;
        int width = 0, height = 0;
        var sawMpf = false;
        var inScan = false;
        while (true)
        {
            if (inScan)
            {
                // Entropy-coded data: FF 00 is a stuffed byte, FF D0-D7 restart markers; anything else ends the scan.
                while (true)
                {
                    if (i + 1 >= d.Length) throw Truncated();
                    if (d[i] == 0xFF && d[i + 1] != 0x00 && d[i + 1] is not (>= 0xD0 and <= 0xD7) && d[i + 1] != 0xFF) break;
                    i++;
                }
                inScan = false;
            }
            if (i + 1 >= d.Length) throw Truncated();
            if (d[i] != 0xFF) throw Corrupt();
            while (i + 1 < d.Length && d[i + 1] == 0xFF) i++; // fill bytes
            if (i + 1 >= d.Length) throw Truncated();
            var marker = d[i + 1];
            i += 2;
            if (marker == 0xD9)
            {
                if (width == 0 || height == 0) throw Corrupt();
                CheckTrailing(d[i..], allowAppendedJpeg: sawMpf);
                return new ContainerInfo(ImageFormat.Jpeg, width, height);
            }
            if (marker is >= 0xD0 and <= 0xD7 or 0x01) continue;
            if (marker == 0xD8) throw Corrupt();
            if (i + 2 > d.Length) throw Truncated();
            var length = BinaryPrimitives.ReadUInt16BigEndian(d[i..]);
            if (length < 2) throw Corrupt();
            if (i + length > d.Length) throw Truncated();
            var segment = d.Slice(i + 2, length - 2);
            if (marker is >= 0xC0 and <= 0xCF && marker is not 0xC4 and not 0xC8 and not 0xCC)
            {
                if (segment.Length < 6) throw Corrupt();
                height = BinaryPrimitives.ReadUInt16BigEndian(segment[1..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(segment[3..]);
                if (width == 0 || height == 0) throw Corrupt();
                CheckPixels(width, height, maxPixels);
            }
            else if (marker == 0xE2 && segment.StartsWith("MPF\0"u8))
            {
                sawMpf = true;
            }
            i += length;
            if (marker == 0xDA)
            {
                if (width == 0) throw Corrupt();
                inScan = true;
            }
        }
    }

    private static ContainerInfo ReadPng(ReadOnlySpan<byte> d, long maxPixels)
    {
        var i = 8;
        int width = 0, height = 0;
        var first = true;
        while (true)
        {
            if (i + 8 > d.Length) throw Truncated();
            var length = BinaryPrimitives.ReadUInt32BigEndian(d[i..]);
            if (length > int.MaxValue) throw Corrupt();
            var type = d.Slice(i + 4, 4);
            if (i + 12L + length > d.Length) throw Truncated();
            if (first)
            {
                if (!type.SequenceEqual("IHDR"u8) || length != 13) throw Corrupt();
                var w = BinaryPrimitives.ReadUInt32BigEndian(d[(i + 8)..]);
                var h = BinaryPrimitives.ReadUInt32BigEndian(d[(i + 12)..]);
                if (w == 0 || h == 0) throw Corrupt();
                CheckPixels(w, h, maxPixels);
                if (w > int.MaxValue || h > int.MaxValue) throw Corrupt();
                width = (int)w;
                height = (int)h;
                first = false;
            }
            i += 12 + (int)length;
            if (type.SequenceEqual("IEND"u8))
            {
                CheckTrailing(d[i..], allowAppendedJpeg: false);
                return new ContainerInfo(ImageFormat.Png, width, height);
            }
        }
    }

    private static void CheckPixels(long width, long height, long maxPixels)
    {
        if (width * height > maxPixels)
        {
            throw new FileRefusedException(FileRefusal.TooManyPixels,
                $"The image declares {width}x{height} pixels, more than the {maxPixels} allowed: send an ordinary photo (a few megapixels).");
        }
    }

    private static void CheckTrailing(ReadOnlySpan<byte> rest, bool allowAppendedJpeg)
    {
        if (rest.IsEmpty || !rest.ContainsAnyExcept((byte)0x00)) return; // zero padding some encoders add
        if (allowAppendedJpeg && rest.Length >= 3 && rest[0] == 0xFF && rest[1] == 0xD8 && rest[2] == 0xFF) return; // MPF secondary images (phones)
        throw new FileRefusedException(FileRefusal.TrailingData,
            "The file carries other data after the end of the image: send the photo as a plain JPEG or PNG, straight from the camera.");
    }

    private static FileRefusedException Truncated() =>
        new(FileRefusal.Truncated, "The image is incomplete (the file ends before the picture does): upload it again.");

    private static FileRefusedException Corrupt() =>
        new(FileRefusal.Corrupt, "The image file is damaged and cannot be read: take the photo again.");
}
