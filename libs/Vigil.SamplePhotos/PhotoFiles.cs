using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SkiaSharp;

namespace Vigil.SamplePhotos;

/// <summary>
/// The files a camera, a phone or a scanner writes: baseline JPEG, 8-bit PNG (with alpha when the picture has
/// any), 16-bit PNG, and EXIF blocks (orientation, camera model, GPS position) inserted in a JPEG.
/// </summary>
public static class PhotoFiles
{
    /// <summary>A baseline JPEG (4:2:0), as cameras write.</summary>
    public static byte[] Jpeg(SKBitmap bitmap, int quality = 90)
    {
        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore))
            ?? throw new InvalidOperationException("The JPEG encoder failed.");
        return data.ToArray();
    }

    /// <summary>An 8-bit PNG (RGBA when the bitmap has transparent pixels).</summary>
    public static byte[] Png(SKBitmap bitmap)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100) ?? throw new InvalidOperationException("The PNG encoder failed.");
        return data.ToArray();
    }

    /// <summary>A 16-bit-per-channel RGB PNG of an opaque bitmap (each 8-bit value v written as v x 257).</summary>
    public static byte[] Png16(SKBitmap bitmap)
    {
        int w = bitmap.Width, h = bitmap.Height, rowBytes = bitmap.RowBytes;
        var px = bitmap.GetPixelSpan();
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
        {
            var row = new byte[1 + (w * 6)];
            for (var y = 0; y < h; y++)
            {
                var line = px.Slice(y * rowBytes, w * 4);
                for (var x = 0; x < w; x++)
                {
                    for (var c = 0; c < 3; c++)
                    {
                        row[1 + (x * 6) + (c * 2)] = line[(x * 4) + c];
                        row[2 + (x * 6) + (c * 2)] = line[(x * 4) + c];
                    }
                }
                z.Write(row);
            }
        }
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)w);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)h);
        ihdr[8] = 16; // bit depth
        ihdr[9] = 2;  // truecolour
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        WritePngChunk(png, "IHDR", ihdr);
        WritePngChunk(png, "IDAT", idat.ToArray());
        WritePngChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>Writes one PNG chunk: length, type, data, CRC-32 of type and data.</summary>
    public static void WritePngChunk(Stream png, string type, byte[] data)
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

    /// <summary>The CRC-32 that PNG chunks carry.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var x in data)
        {
            crc ^= x;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>
    /// The pixels a phone stores for an upright scene when it writes EXIF <paramref name="orientation"/> (1, 3, 6 or 8):
    /// 6 = the stored picture must be turned 90° clockwise to be seen upright, 8 = counter-clockwise, 3 = half a turn.
    /// </summary>
    public static SKBitmap StoredFor(SKBitmap upright, ushort orientation)
    {
        var swap = orientation is 6 or 8;
        int w = upright.Width, h = upright.Height;
        var stored = new SKBitmap(new SKImageInfo(swap ? h : w, swap ? w : h, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(stored);
        switch (orientation)
        {
            case 1: break;
            case 3: canvas.Translate(w, h); canvas.RotateDegrees(180); break;
            case 6: canvas.Translate(0, w); canvas.RotateDegrees(-90); break; // turned back counter-clockwise
            case 8: canvas.Translate(h, 0); canvas.RotateDegrees(90); break;
            default: throw new ArgumentOutOfRangeException(nameof(orientation), "1, 3, 6 or 8.");
        }
        canvas.DrawBitmap(upright, 0, 0);
        return stored;
    }

    /// <summary>
    /// <paramref name="jpeg"/> with an EXIF block (APP1, right after SOI) holding the orientation, and optionally a camera
    /// model and a GPS position (degrees, minutes, seconds as rationals: 6 numbers each).
    /// </summary>
    public static byte[] WithExif(byte[] jpeg, ushort orientation, string? cameraModel = null, uint[]? gpsLatitude = null, uint[]? gpsLongitude = null)
    {
        var exif = ExifSegment(orientation, cameraModel, gpsLatitude, gpsLongitude);
        return [.. jpeg.AsSpan(0, 2), .. exif, .. jpeg.AsSpan(2)];
    }

    private static byte[] ExifSegment(ushort orientation, string? model, uint[]? lat, uint[]? lon)
    {
        // Big-endian TIFF: header (8), IFD0, optional GPS IFD, then the values the entries point to.
        var gps = lat is not null && lon is not null;
        var modelBytes = model is null ? [] : Encoding.ASCII.GetBytes(model + "\0");
        var ifd0Entries = 1 + (model is null ? 0 : 1) + (gps ? 1 : 0);
        const int ifd0 = 8;
        var ifd0Size = 2 + (ifd0Entries * 12) + 4;
        var gpsIfd = ifd0 + ifd0Size;
        var gpsSize = gps ? 2 + (5 * 12) + 4 : 0;
        var modelOffset = gpsIfd + gpsSize;
        var latOffset = modelOffset + modelBytes.Length;
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
        U16(ifd0Entries);
        if (model is not null) Entry(0x0110, 2, modelBytes.Length, modelOffset); // Model
        Entry(0x0112, 3, 1, orientation, shortValue: true);                        // Orientation
        if (gps) Entry(0x8825, 4, 1, gpsIfd);                                      // GPS IFD pointer
        U32(0);
        if (gps)
        {
            U16(5);
            b.AddRange(new byte[] { 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 2, 3, 0, 0 });           // GPSVersionID
            b.AddRange(new byte[] { 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, (byte)'N', 0, 0, 0 });   // GPSLatitudeRef
            Entry(0x0002, 5, 3, latOffset);                                                                  // GPSLatitude
            b.AddRange(new byte[] { 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, (byte)'E', 0, 0, 0 });   // GPSLongitudeRef
            Entry(0x0004, 5, 3, lonOffset);                                                                  // GPSLongitude
            U32(0);
        }
        b.AddRange(modelBytes);
        if (gps)
        {
            foreach (var v in lat!) U32(v);
            foreach (var v in lon!) U32(v);
        }
        var payload = new List<byte>("Exif\0\0"u8.ToArray());
        payload.AddRange(b);
        var length = payload.Count + 2;
        return [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload];
    }
}
