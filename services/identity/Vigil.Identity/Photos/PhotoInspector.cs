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
        var (decoded, origin) = DecodePixels(data, container);
        using var oriented = Prepare(decoded, origin);
        var (gray, gw, gh) = AnalysisGray(oriented);
        var metrics = Measure(gray, gw, gh);
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
        var hash = PerceptualHash.Compute(gray, gw, gh);
        var clean = problems.Count == 0 ? EncodeClean(oriented) : [];
        return new InspectedPhoto(oriented.Width, oriented.Height, problems, metrics, hash, clean);
    }

    /// <summary>The decoded pixels, as the file stores them, and the EXIF orientation to apply.</summary>
    internal (SKBitmap Bitmap, SKEncodedOrigin Origin) DecodePixels(ReadOnlyMemory<byte> data, ContainerInfo container)
    {
        using var skData = SKData.CreateCopy(data.Span);
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
        // JPEG can be decoded at 1/2, 1/4, 1/8 directly: no need for more than twice the stored size.
        var longSide = Math.Max(info.Width, info.Height);
        var scale = Math.Min(1f, 2f * _options.StoredMaxLongSide / longSide);
        var size = scale < 1f ? codec.GetScaledDimensions(scale) : new SKSizeI(info.Width, info.Height);
        if (size.Width < 1 || size.Height < 1) size = new SKSizeI(info.Width, info.Height);
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
            return (bitmap, codec.EncodedOrigin);
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    /// <summary>Upright, fitted within the stored size, flattened over white (takes ownership of <paramref name="bitmap"/>).</summary>
    internal SKBitmap Prepare(SKBitmap bitmap, SKEncodedOrigin origin)
    {
        var oriented = ApplyOrigin(bitmap, origin);
        if (!ReferenceEquals(oriented, bitmap)) bitmap.Dispose();
        return Flatten(FitWithin(oriented, _options.StoredMaxLongSide));
    }

    /// <summary>Turns the pixels so that the image is upright, as EXIF orientation says (before metadata is dropped).</summary>
    internal static SKBitmap ApplyOrigin(SKBitmap source, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or SKEncodedOrigin.Default) return source;
        var swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
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

    internal static SKBitmap FitWithin(SKBitmap source, int maxLongSide)
    {
        var longSide = Math.Max(source.Width, source.Height);
        if (longSide <= maxLongSide) return source;
        var f = (double)maxLongSide / longSide;
        var info = new SKImageInfo(Math.Max(1, (int)Math.Round(source.Width * f)), Math.Max(1, (int)Math.Round(source.Height * f)), SKColorType.Rgba8888, SKAlphaType.Premul);
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
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(SKEncodedImageFormat.Jpeg, _options.StoredJpegQuality);
        return encoded.ToArray();
    }

    /// <summary>A greyscale (luma) copy with its long side at most 512 pixels, area-averaged.</summary>
    internal static (float[] Gray, int Width, int Height) AnalysisGray(SKBitmap bitmap)
    {
        var longSide = Math.Max(bitmap.Width, bitmap.Height);
        var f = Math.Min(1.0, (double)AnalysisLongSide / longSide);
        var w = Math.Max(1, (int)Math.Round(bitmap.Width * f));
        var h = Math.Max(1, (int)Math.Round(bitmap.Height * f));
        using var small = f < 1.0
            ? bitmap.Resize(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
            : bitmap.Copy();
        var px = small.GetPixelSpan();
        var gray = new float[w * h];
        for (int i = 0, p = 0; i < gray.Length; i++, p += 4)
        {
            gray[i] = (0.299f * px[p]) + (0.587f * px[p + 1]) + (0.114f * px[p + 2]);
        }
        return (gray, w, h);
    }

    internal static PhotoMetrics Measure(float[] gray, int w, int h)
    {
        var histogram = new int[256];
        double sum = 0;
        var clipped = 0;
        foreach (var g in gray)
        {
            var v = Math.Clamp((int)g, 0, 255);
            histogram[v]++;
            sum += g;
            if (v >= 250) clipped++;
        }
        var n = gray.Length;
        var mean = sum / n;
        var spread = Percentile(histogram, n, 0.98) - Percentile(histogram, n, 0.02);
        // Variance of the 4-neighbour Laplacian: edges and fine detail; low when out of focus.
        double lsum = 0, lsq = 0;
        var count = 0;
        for (var y = 1; y < h - 1; y++)
        {
            for (var x = 1; x < w - 1; x++)
            {
                var i = (y * w) + x;
                double l = gray[i - 1] + gray[i + 1] + gray[i - w] + gray[i + w] - (4 * gray[i]);
                lsum += l;
                lsq += l * l;
                count++;
            }
        }
        var sharpness = count == 0 ? 0 : (lsq / count) - ((lsum / count) * (lsum / count));
        return new PhotoMetrics(mean, spread, (double)clipped / n, sharpness);
    }

    private static int Percentile(int[] histogram, int n, double q)
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
