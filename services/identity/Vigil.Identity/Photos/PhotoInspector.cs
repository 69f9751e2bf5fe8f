using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using SkiaSharp;
using Vigil.Contracts.Identity.V1;

namespace Vigil.Identity.Photos;

/// <summary>The measurements a quality verdict rests on (kept for tests and tuning, never logged with the photo).</summary>
internal sealed record PhotoMetrics(double MeanLuminance, double LuminanceSpread, double ClippedWhiteShare, double Sharpness);

/// <summary>A decoded, checked photo: its problems (empty when accepted), and the clean copy to store.</summary>
internal sealed record InspectedPhoto(
    int Width,
    int Height,
    IReadOnlyList<PhotoProblem> Problems,
    PhotoMetrics Metrics,
    ulong PerceptualHash,
    byte[] CleanJpeg)
{
    public bool Accepted => Problems.Count == 0;
}

/// <summary>
/// Checks an uploaded photo: container structure and declared size first (no decode), then a full decode
/// with SkiaSharp, orientation applied, quality measured (exposure, blankness, sharpness), a perceptual hash,
/// and a clean re-encoded JPEG with no metadata at all (EXIF, GPS, ICC, comments are not carried over).
/// </summary>
internal sealed class PhotoInspector(IOptions<PhotoOptions> options)
{
    private const int AnalysisLongSide = 512;
    private readonly PhotoOptions _options = options.Value;
    private readonly SemaphoreSlim _decodes = new(options.Value.MaxConcurrentDecodes);

    /// <summary>Inspects <paramref name="data"/>; throws <see cref="FileRefusedException"/> for a file that is not a readable photo.</summary>
    public async Task<InspectedPhoto> InspectAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var container = ImageContainer.Read(data.Span, _options.MaxPixels);
        await _decodes.WaitAsync(cancellationToken);
        try
        {
            return Inspect(data, container);
        }
        catch (Exception ex) when (ex is not FileRefusedException and not OperationCanceledException and not OutOfMemoryException)
        {
            // Whatever the decoder chokes on is a damaged file for the learner, never an internal error.
            throw new FileRefusedException(FileRefusal.Corrupt, "The image file is damaged and cannot be read: take the photo again.", ex);
        }
        finally
        {
            _decodes.Release();
        }
    }

    private InspectedPhoto Inspect(ReadOnlyMemory<byte> data, ContainerInfo container)
    {
        var (decoded, origin, opaque, encodedSize) = DecodePixels(data, container);
        using var oriented = Prepare(decoded, origin, opaque, encodedSize);
        var (gw, gh) = AnalysisSize(oriented.Width, oriented.Height);
        PhotoMetrics metrics;
        ulong hash;
        var buffer = ArrayPool<float>.Shared.Rent(gw * gh);
        try
        {
            var gray = buffer.AsSpan(0, gw * gh);
            AnalysisGray(oriented, gray, gw, gh);
            metrics = Measure(gray, gw, gh);
            hash = PerceptualHash.Compute(gray, gw, gh);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
        var problems = new List<PhotoProblem>();
        var shortSide = Math.Min(oriented.Width, oriented.Height);
        var longSide = Math.Max(oriented.Width, oriented.Height);
        if (shortSide < _options.MinShortSide || longSide < _options.MinLongSide)
        {
            problems.Add(Problem(PhotoProblemCode.TooSmall,
                $"The photo is {oriented.Width}x{oriented.Height} pixels; at least {_options.MinLongSide}x{_options.MinShortSide} is needed. Use your camera's normal resolution, not a thumbnail or a screenshot."));
        }
        if (metrics.LuminanceSpread < _options.MinLuminanceSpread)
        {
            problems.Add(Problem(PhotoProblemCode.Blank,
                "The photo shows nothing but one flat colour. Check that the camera is not covered and points at the subject, then take it again."));
        }
        else
        {
            var exposureProblem = false;
            if (metrics.MeanLuminance < _options.MinMeanLuminance)
            {
                problems.Add(Problem(PhotoProblemCode.TooDark,
                    "The photo is too dark. Turn on a light or face a window, avoid light behind you, and take it again."));
                exposureProblem = true;
            }
            else if (metrics.MeanLuminance > _options.MaxMeanLuminance || metrics.ClippedWhiteShare > _options.MaxClippedWhiteShare)
            {
                problems.Add(Problem(PhotoProblemCode.Overexposed,
                    "The photo is overexposed (washed out). Move away from direct light or a lamp pointing at the camera, tilt the document to avoid glare, and take it again."));
                exposureProblem = true;
            }
            if (!exposureProblem && metrics.Sharpness < _options.MinSharpness)
            {
                problems.Add(Problem(PhotoProblemCode.Blurred,
                    "The photo is blurred. Hold still, let the camera focus (tap the screen on a phone), keep it about 30 cm away, and take it again."));
            }
        }
        var clean = problems.Count == 0 ? EncodeClean(oriented) : [];
        return new InspectedPhoto(oriented.Width, oriented.Height, problems, metrics, hash, clean);
    }

    /// <summary>
    /// The decoded pixels, as the file stores them, the EXIF orientation to apply, whether the image is opaque
    /// (JPEG always; PNG without alpha), and its full size. A JPEG larger than the stored size is decoded at the
    /// smallest libjpeg scale (n/8) that still covers it: the stored copy is as large as before, with fewer
    /// pixels decoded.
    /// </summary>
    internal (SKBitmap Bitmap, SKEncodedOrigin Origin, bool Opaque, SKSizeI EncodedSize) DecodePixels(ReadOnlyMemory<byte> data, ContainerInfo container)
    {
        // The codec reads the upload's own bytes, pinned while it lives: no native copy of them.
        GCHandle pin = default;
        SKData skData;
        if (MemoryMarshal.TryGetArray(data, out var segment) && segment.Array is { } array)
        {
            pin = GCHandle.Alloc(array, GCHandleType.Pinned);
            skData = SKData.Create(pin.AddrOfPinnedObject() + segment.Offset, segment.Count);
        }
        else
        {
            skData = SKData.CreateCopy(data.Span);
        }
        try
        {
            using var codec = SKCodec.Create(skData)
                ?? throw new FileRefusedException(FileRefusal.Corrupt, "The image file is damaged and cannot be read: take the photo again.");
            var expected = container.Format == ImageFormat.Jpeg ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png;
            if (codec.EncodedFormat != expected)
            {
                throw new FileRefusedException(FileRefusal.Corrupt, "The image file is damaged and cannot be read: take the photo again.");
            }
            var info = codec.Info;
            if ((long)info.Width * info.Height > _options.MaxPixels)
            {
                throw new FileRefusedException(FileRefusal.TooManyPixels,
                    $"The image declares {info.Width}x{info.Height} pixels, more than the {_options.MaxPixels} allowed: send an ordinary photo (a few megapixels).");
            }
            var size = new SKSizeI(info.Width, info.Height);
            var longSide = Math.Max(info.Width, info.Height);
            if (expected == SKEncodedImageFormat.Jpeg && longSide > _options.StoredMaxLongSide)
            {
                for (var n = 1; n < 8; n++)
                {
                    var scaled = codec.GetScaledDimensions(n / 8f);
                    if (scaled.Width >= 1 && scaled.Height >= 1 && Math.Max(scaled.Width, scaled.Height) >= _options.StoredMaxLongSide)
                    {
                        size = scaled;
                        break;
                    }
                }
            }
            var decodeInfo = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul, SKColorSpace.CreateSrgb());
            var bitmap = new SKBitmap(decodeInfo);
            try
            {
                var result = codec.GetPixels(decodeInfo, bitmap.GetPixels());
                switch (result)
                {
                    case SKCodecResult.Success:
                        break;
                    case SKCodecResult.IncompleteInput:
                        throw new FileRefusedException(FileRefusal.Truncated, "The image is incomplete (the file ends before the picture does): upload it again.");
                    default:
                        throw new FileRefusedException(FileRefusal.Corrupt, "The image file is damaged and cannot be read: take the photo again.");
                }
                return (bitmap, codec.EncodedOrigin, info.AlphaType == SKAlphaType.Opaque, new SKSizeI(info.Width, info.Height));
            }
            catch
            {
                bitmap.Dispose();
                throw;
            }
        }
        finally
        {
            skData.Dispose();
            if (pin.IsAllocated) pin.Free();
        }
    }

    /// <summary>
    /// Upright, fitted within the stored size, and flattened over white unless opaque already (takes ownership of
    /// <paramref name="bitmap"/>, which may have been decoded scaled from <paramref name="encodedSize"/>).
    /// </summary>
    internal SKBitmap Prepare(SKBitmap bitmap, SKEncodedOrigin origin, bool opaque, SKSizeI encodedSize)
    {
        var oriented = ApplyOrigin(bitmap, origin);
        if (!ReferenceEquals(oriented, bitmap)) bitmap.Dispose();
        var upright = SwapsAxes(origin) ? new SKSizeI(encodedSize.Height, encodedSize.Width) : encodedSize;
        var fitted = FitWithin(oriented, _options.StoredMaxLongSide, upright);
        // Drawing opaque pixels over white gives the same pixels: only images with alpha need the copy.
        return opaque ? fitted : Flatten(fitted);
    }

    /// <summary>Turns the pixels so that the image is upright, as EXIF orientation says (before metadata is dropped).</summary>
    internal static SKBitmap ApplyOrigin(SKBitmap source, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or SKEncodedOrigin.Default) return source;
        var swap = SwapsAxes(origin);
        int w = source.Width, h = source.Height;
        var target = new SKBitmap(new SKImageInfo(swap ? h : w, swap ? w : h, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(target);
        var m = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
            _ => SKMatrix.Identity,
        };
        canvas.SetMatrix(m);
        canvas.DrawBitmap(source, 0, 0);
        return target;
    }

    private static bool SwapsAxes(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>
    /// Scales <paramref name="source"/> (Mitchell cubic) to the stored size of an image of <paramref name="fullSize"/>
    /// (upright): its long side at most <paramref name="maxLongSide"/>, sides rounded from the full size, so a
    /// scaled decode gives the same stored size as a full one.
    /// </summary>
    internal static SKBitmap FitWithin(SKBitmap source, int maxLongSide, SKSizeI fullSize)
    {
        var longSide = Math.Max(fullSize.Width, fullSize.Height);
        var f = Math.Min(1.0, (double)maxLongSide / longSide);
        int w = Math.Max(1, (int)Math.Round(fullSize.Width * f)), h = Math.Max(1, (int)Math.Round(fullSize.Height * f));
        if (w == source.Width && h == source.Height) return source;
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul);
        var resized = source.Resize(info, new SKSamplingOptions(SKCubicResampler.Mitchell));
        source.Dispose();
        return resized;
    }

    /// <summary>Draws the image over white (transparent PNGs) into an opaque bitmap.</summary>
    internal static SKBitmap Flatten(SKBitmap source)
    {
        var target = new SKBitmap(new SKImageInfo(source.Width, source.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(target))
        {
            canvas.Clear(SKColors.White);
            canvas.DrawBitmap(source, 0, 0);
        }
        source.Dispose();
        return target;
    }

    internal byte[] EncodeClean(SKBitmap bitmap)
    {
        // Straight from the pixels (an SKImage of a mutable bitmap would copy them), described without a colour
        // space so that the encoder writes no ICC profile: the stored copy is a bare JPEG, as before.
        using var pixmap = new SKPixmap(bitmap.Info.WithColorSpace(null), bitmap.GetPixels(), bitmap.RowBytes);
        using var encoded = pixmap.Encode(SKEncodedImageFormat.Jpeg, _options.StoredJpegQuality)
            ?? throw new InvalidOperationException("The JPEG encoder failed.");
        return encoded.ToArray();
    }

    /// <summary>The size of the analysis copy: the long side at most 512 pixels, the aspect kept.</summary>
    internal static (int Width, int Height) AnalysisSize(int width, int height)
    {
        var f = Math.Min(1.0, (double)AnalysisLongSide / Math.Max(width, height));
        return (Math.Max(1, (int)Math.Round(width * f)), Math.Max(1, (int)Math.Round(height * f)));
    }

    /// <summary>
    /// A greyscale (luma) copy of <paramref name="bitmap"/> (opaque RGBA) at <paramref name="w"/>x<paramref name="h"/>,
    /// area-averaged: each analysis pixel is the mean luma of the source area it covers (partly covered source
    /// pixels weigh by the part covered). Computed straight from the pixels: each source row's luma is added,
    /// weighted by how much of it falls in each, into the one or two analysis row bands it overlaps; a finished
    /// band is then cut into columns the same way (a running sum gives each column band's sum in two look-ups).
    /// </summary>
    internal static void AnalysisGray(SKBitmap bitmap, Span<float> gray, int w, int h)
    {
        int width = bitmap.Width, height = bitmap.Height, rowBytes = bitmap.RowBytes;
        ReadOnlySpan<byte> px = bitmap.GetPixelSpan();
        if (w == width && h == height)
        {
            for (var y = 0; y < h; y++) LumaRow(px.Slice(y * rowBytes, width * 4), gray.Slice(y * w, w));
            return;
        }
        var luma = ArrayPool<float>.Shared.Rent(width);
        var bands = ArrayPool<float>.Shared.Rent(2 * width);
        var running = ArrayPool<double>.Shared.Rent(width + 1);
        var edgeIndex = ArrayPool<int>.Shared.Rent(w + 1);
        var edgeFraction = ArrayPool<double>.Shared.Rent(w + 1);
        try
        {
            // Column band ox is [ox*width/w, (ox+1)*width/w).
            for (var ox = 0; ox <= w; ox++)
            {
                var t = (double)ox * width / w;
                var i = Math.Min((int)t, width - 1);
                edgeIndex[ox] = i;
                edgeFraction[ox] = t - i;
            }
            var sy = (double)height / h;
            bands.AsSpan(0, 2 * width).Clear();
            var done = 0;
            for (var y = 0; y < height; y++)
            {
                LumaRow(px.Slice(y * rowBytes, width * 4), luma.AsSpan(0, width));
                // Source row y covers [y, y+1): it adds to every analysis row whose band [oy*sy, (oy+1)*sy) it overlaps.
                for (var oy = Math.Max(done, (int)(y / sy)); oy < h && oy * sy < y + 1; oy++)
                {
                    var cover = Math.Min(y + 1, (oy + 1) * sy) - Math.Max(y, oy * sy);
                    if (cover > 0) AddScaled(bands.AsSpan((oy & 1) * width, width), luma.AsSpan(0, width), (float)(cover / sy));
                }
                while (done < h && ((done + 1) * sy <= y + 1 || y == height - 1))
                {
                    var band = bands.AsSpan((done & 1) * width, width);
                    Columns(band, gray.Slice(done * w, w), running, edgeIndex, edgeFraction, (double)w / width);
                    band.Clear();
                    done++;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(luma);
            ArrayPool<float>.Shared.Return(bands);
            ArrayPool<double>.Shared.Return(running);
            ArrayPool<int>.Shared.Return(edgeIndex);
            ArrayPool<double>.Shared.Return(edgeFraction);
        }
    }

    /// <summary>Area-averages one row band into its analysis row: column band ox's sum is S(end) - S(start), S(t) the running sum up to t, linear inside a pixel.</summary>
    private static void Columns(ReadOnlySpan<float> band, Span<float> target, double[] running, int[] edgeIndex, double[] edgeFraction, double scale)
    {
        double sum = 0;
        running[0] = 0;
        for (var x = 0; x < band.Length; x++)
        {
            sum += band[x];
            running[x + 1] = sum;
        }
        var i = edgeIndex[0];
        var previous = running[i] + (edgeFraction[0] * (running[i + 1] - running[i]));
        for (var ox = 0; ox < target.Length; ox++)
        {
            i = edgeIndex[ox + 1];
            var next = running[i] + (edgeFraction[ox + 1] * (running[i + 1] - running[i]));
            target[ox] = (float)((next - previous) * scale);
            previous = next;
        }
    }

    /// <summary>Rec. 601 luma (0.299 R + 0.587 G + 0.114 B) of a row of RGBA pixels.</summary>
    private static void LumaRow(ReadOnlySpan<byte> rgba, Span<float> luma)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian)
        {
            // One pixel per uint: R | G << 8 | B << 16 | A << 24.
            var pixels = MemoryMarshal.Cast<byte, uint>(rgba);
            var mask = new Vector<uint>(0xFF);
            Vector<float> kr = new(0.299f), kg = new(0.587f), kb = new(0.114f);
            for (; i <= luma.Length - Vector<uint>.Count; i += Vector<uint>.Count)
            {
                var v = new Vector<uint>(pixels[i..]);
                var r = Vector.ConvertToSingle(Vector.AsVectorInt32(v & mask));
                var g = Vector.ConvertToSingle(Vector.AsVectorInt32(Vector.ShiftRightLogical(v, 8) & mask));
                var b = Vector.ConvertToSingle(Vector.AsVectorInt32(Vector.ShiftRightLogical(v, 16) & mask));
                ((kr * r) + (kg * g) + (kb * b)).CopyTo(luma[i..]);
            }
        }
        for (var p = i * 4; i < luma.Length; i++, p += 4)
        {
            luma[i] = (0.299f * rgba[p]) + (0.587f * rgba[p + 1]) + (0.114f * rgba[p + 2]);
        }
    }

    /// <summary><paramref name="target"/> += <paramref name="source"/> × <paramref name="factor"/>.</summary>
    private static void AddScaled(Span<float> target, ReadOnlySpan<float> source, float factor)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var f = new Vector<float>(factor);
            for (; i <= target.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var t = new Vector<float>(target[i..]);
                (t + (new Vector<float>(source[i..]) * f)).CopyTo(target[i..]);
            }
        }
        for (; i < target.Length; i++) target[i] += source[i] * factor;
    }

    internal static PhotoMetrics Measure(ReadOnlySpan<float> gray, int w, int h)
    {
        Span<int> histogram = stackalloc int[256];
        histogram.Clear();
        double sum = 0;
        var clipped = 0;
        for (var y = 0; y < h; y++)
        {
            var row = gray.Slice(y * w, w);
            float rowSum = 0;
            foreach (var g in row)
            {
                var v = Math.Clamp((int)g, 0, 255);
                histogram[v]++;
                rowSum += g;
            }
            sum += rowSum;
        }
        for (var v = 250; v < 256; v++) clipped += histogram[v];
        var n = gray.Length;
        var mean = sum / n;
        var spread = Percentile(histogram, n, 0.98) - Percentile(histogram, n, 0.02);
        // Variance of the 4-neighbour Laplacian: edges and fine detail; low when out of focus.
        double lsum = 0, lsq = 0;
        var count = 0;
        for (var y = 1; y < h - 1; y++)
        {
            var (rowSum, rowSquares) = LaplacianRow(gray.Slice((y - 1) * w, w), gray.Slice(y * w, w), gray.Slice((y + 1) * w, w));
            lsum += rowSum;
            lsq += rowSquares;
            count += w - 2;
        }
        var sharpness = count <= 0 ? 0 : (lsq / count) - ((lsum / count) * (lsum / count));
        return new PhotoMetrics(mean, spread, (double)clipped / n, sharpness);
    }

    /// <summary>The sum and the sum of squares of the Laplacian (up + down + left + right - 4 × centre) along one row, edges excluded.</summary>
    private static (double Sum, double Squares) LaplacianRow(ReadOnlySpan<float> up, ReadOnlySpan<float> row, ReadOnlySpan<float> down)
    {
        var w = row.Length;
        double sum = 0, squares = 0;
        var x = 1;
        if (Vector.IsHardwareAccelerated && w - 2 >= Vector<float>.Count)
        {
            Vector<float> vsum = default, vsq = default, four = new(4f);
            for (; x + Vector<float>.Count <= w - 1; x += Vector<float>.Count)
            {
                var l = new Vector<float>(row[(x - 1)..]) + new Vector<float>(row[(x + 1)..]) + new Vector<float>(up[x..]) + new Vector<float>(down[x..])
                        - (four * new Vector<float>(row[x..]));
                vsum += l;
                vsq += l * l;
            }
            sum = Vector.Sum(vsum);
            squares = Vector.Sum(vsq);
        }
        for (; x < w - 1; x++)
        {
            double l = row[x - 1] + row[x + 1] + up[x] + down[x] - (4 * row[x]);
            sum += l;
            squares += l * l;
        }
        return (sum, squares);
    }

    private static int Percentile(ReadOnlySpan<int> histogram, int n, double q)
    {
        var target = q * n;
        var cumulative = 0;
        for (var v = 0; v < 256; v++)
        {
            cumulative += histogram[v];
            if (cumulative >= target) return v;
        }
        return 255;
    }

    private static PhotoProblem Problem(PhotoProblemCode code, string message) => new() { Code = code, Message = message };
}
