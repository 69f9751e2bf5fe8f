using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using SkiaSharp;
using Vigil.Contracts.Identity.V1;

namespace Vigil.Identity.Photos;

/// <summary>
/// The measurements a quality verdict rests on, on the analysis copy (kept for tests and tuning, never logged with the
/// photo). Luminance in levels (0-255); shares in 0-1.
/// </summary>
/// <param name="MeanLuminance">Mean luma.</param>
/// <param name="LuminanceSpread">98th minus 2nd percentile: under a few levels the picture is one flat colour.</param>
/// <param name="DarkEnd">How dark the darkest parts are (print, pupils, shadows): the 2nd percentile of the tiles' minima. High when glare washed everything out.</param>
/// <param name="BrightEnd">How bright the brightest parts are: the 98th percentile of the tiles' maxima. Low when the whole picture is dark.</param>
/// <param name="ClippedShare">Share of pixels at 250 or above (clipped white).</param>
/// <param name="DetailShare">Share of 16x16 tiles whose local contrast (max - min) is at least <see cref="PhotoInspector.DetailContrast"/>: where something can be made out.</param>
/// <param name="Sharpness">
/// Edge steepness over the tiles with detail, 0-1, independent of contrast: for each direction, Σ d² / (Σ |d| × contrast) per
/// tile (d = difference of neighbouring pixels; about 1 / the width in pixels over which an edge rises), the 90th
/// percentile over the tiles (the best-focused part: a document at an angle is sharp only where the camera focused), then the lower of the two directions (motion blurs one). About 0.28 / sigma for a Gaussian blur.
/// </param>
internal sealed record PhotoMetrics(
    double MeanLuminance,
    double LuminanceSpread,
    double DarkEnd,
    double BrightEnd,
    double ClippedShare,
    double DetailShare,
    double Sharpness);

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
        var quality = Judge(metrics, _options);
        if (quality is { } code) problems.Add(Problem(code, Advice(code)));
        var clean = problems.Count == 0 ? EncodeClean(oriented) : [];
        return new InspectedPhoto(oriented.Width, oriented.Height, problems, metrics, hash, clean);
    }

    /// <summary>
    /// The picture-quality verdict (none = usable), judged on what a person would see rather than on global averages: a
    /// light document that fills the frame is bright and partly clipped, yet legible. In order, the first that applies:
    /// <list type="number">
    /// <item><b>Blank</b>: one flat colour (spread under <see cref="PhotoOptions.MinLuminanceSpread"/>); <b>overexposed</b> when
    /// that colour is mostly clipped white (the print washed out entirely).</item>
    /// <item><b>Too dark</b>: even the brightest part is dark (bright end under <see cref="PhotoOptions.MinBrightEnd"/>).
    /// Not the brightness of a face or of dark clothes: skin tones differ, and a person in front of a window is legible.</item>
    /// <item><b>Overexposed</b>: glare lifted even the darkest print (dark end over <see cref="PhotoOptions.MaxDarkEnd"/>),
    /// or the picture is clipped white over <see cref="PhotoOptions.BlownClippedShare"/> of it with hardly anything legible
    /// left (detail share under <see cref="PhotoOptions.MinDetailShare"/>). A bright picture with legible detail is not
    /// overexposed, however much of it is clipped: a white card or a scanned page.</item>
    /// <item><b>Blurred</b>: hardly any detail left (detail share under <see cref="PhotoOptions.MinDetailShare"/>) or its edges are
    /// soft (sharpness under <see cref="PhotoOptions.MinEdgeSharpness"/>).</item>
    /// </list>
    /// </summary>
    internal static PhotoProblemCode? Judge(PhotoMetrics m, PhotoOptions o)
    {
        if (m.LuminanceSpread < o.MinLuminanceSpread) return m.ClippedShare > 0.5 ? PhotoProblemCode.Overexposed : PhotoProblemCode.Blank;
        if (m.BrightEnd < o.MinBrightEnd) return PhotoProblemCode.TooDark;
        if (m.DarkEnd > o.MaxDarkEnd || (m.ClippedShare > o.BlownClippedShare && m.DetailShare < o.MinDetailShare)) return PhotoProblemCode.Overexposed;
        if (m.DetailShare < o.MinDetailShare || m.Sharpness < o.MinEdgeSharpness) return PhotoProblemCode.Blurred;
        return null;
    }

    private static string Advice(PhotoProblemCode code) => code switch
    {
        PhotoProblemCode.Blank => "The photo shows nothing but one flat colour. Check that the camera is not covered and points at the subject, then take it again.",
        PhotoProblemCode.TooDark => "The photo is too dark to make anything out. Turn on a light or face a window, avoid light behind you, and take it again.",
        PhotoProblemCode.Overexposed => "The photo is washed out: glare or too much light hides what it shows. Move away from direct light or a lamp pointing at the camera, tilt the document to avoid glare, and take it again.",
        _ => "The photo is blurred. Hold still, let the camera focus (tap the screen on a phone), keep it about 30 cm away, and take it again.",
    };

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

    /// <summary>The side of the square tiles local detail is measured on, in analysis pixels.</summary>
    internal const int TileSize = 16;

    /// <summary>The local contrast (levels, max - min in a tile) from which a tile shows something: print on paper, an eye, an edge.</summary>
    internal const float DetailContrast = 32;

    internal static PhotoMetrics Measure(ReadOnlySpan<float> gray, int w, int h)
    {
        Span<int> histogram = stackalloc int[256];
        histogram.Clear();
        double sum = 0;
        var n = gray.Length;
        // Per tile: min, max, mean, and for each direction the sums of |d| and d² of neighbouring pixels' differences.
        int tw = Math.Max(1, w / TileSize), th = Math.Max(1, h / TileSize), tiles = tw * th;
        var stats = ArrayPool<float>.Shared.Rent(tiles * 7);
        try
        {
            var t = stats.AsSpan(0, tiles * 7);
            for (var i = 0; i < tiles; i++)
            {
                t[(i * 7) + 0] = float.MaxValue;
                t[(i * 7) + 1] = float.MinValue;
                t.Slice((i * 7) + 2, 5).Clear();
            }
            for (var y = 0; y < h; y++)
            {
                var row = gray.Slice(y * w, w);
                var below = y + 1 < h ? gray.Slice((y + 1) * w, w) : row;
                float rowSum = 0;
                foreach (var g in row)
                {
                    histogram[Math.Clamp((int)g, 0, 255)]++;
                    rowSum += g;
                }
                sum += rowSum;
                var ty = Math.Min(y / TileSize, th - 1);
                for (var tx = 0; tx < tw; tx++)
                {
                    var x0 = tx * TileSize;
                    var x1 = tx == tw - 1 ? w : x0 + TileSize;
                    TileRow(row, below, x0, x1, t.Slice(((ty * tw) + tx) * 7, 7));
                }
            }
            var mean = sum / n;
            var spread = Percentile(histogram, n, 0.98) - Percentile(histogram, n, 0.02);
            var clipped = 0;
            for (var v = 250; v < 256; v++) clipped += histogram[v];
            var (darkEnd, brightEnd, detail, sharpness) = Tiles(t, tiles);
            return new PhotoMetrics(mean, spread, darkEnd, brightEnd, (double)clipped / n, detail, sharpness);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(stats);
        }
    }

    /// <summary>Adds one row's pixels x0..x1 to a tile's statistics: min, max, sum, Σ|dx|, Σdx², Σ|dy|, Σdy² (dy against the row below).</summary>
    private static void TileRow(ReadOnlySpan<float> row, ReadOnlySpan<float> below, int x0, int x1, Span<float> s)
    {
        float min = s[0], max = s[1], total = 0, ax = 0, qx = 0, ay = 0, qy = 0;
        var last = row.Length - 1;
        for (var x = x0; x < x1; x++)
        {
            var g = row[x];
            min = Math.Min(min, g);
            max = Math.Max(max, g);
            total += g;
            var dx = row[Math.Min(x + 1, last)] - g;
            var dy = below[x] - g;
            ax += Math.Abs(dx);
            qx += dx * dx;
            ay += Math.Abs(dy);
            qy += dy * dy;
        }
        s[0] = min;
        s[1] = max;
        s[2] += total;
        s[3] += ax;
        s[4] += qx;
        s[5] += ay;
        s[6] += qy;
    }

    /// <summary>
    /// From the tiles' statistics: the dark and bright ends (2nd percentile of the tiles' minima, 98th of their maxima: a
    /// document small on a white page still has its print), the detail share, and the edge sharpness over the tiles with detail.
    /// </summary>
    private static (double DarkEnd, double BrightEnd, double Detail, double Sharpness) Tiles(ReadOnlySpan<float> t, int tiles)
    {
        var sx = new List<double>();
        var sy = new List<double>();
        var mins = new List<double>(tiles);
        var maxes = new List<double>(tiles);
        for (var i = 0; i < tiles; i++)
        {
            float min = t[(i * 7) + 0], max = t[(i * 7) + 1], range = max - min;
            mins.Add(min);
            maxes.Add(max);
            if (range < DetailContrast) continue;
            sx.Add(t[(i * 7) + 3] > 0 ? t[(i * 7) + 4] / (t[(i * 7) + 3] * range) : 0);
            sy.Add(t[(i * 7) + 5] > 0 ? t[(i * 7) + 6] / (t[(i * 7) + 5] * range) : 0);
        }
        var sharpness = sx.Count == 0 ? 0 : Math.Min(Quantile(sx, 0.9), Quantile(sy, 0.9));
        return (Quantile(mins, 0.02), Quantile(maxes, 0.98), (double)sx.Count / tiles, sharpness);
    }

    private static double Quantile(List<double> values, double q)
    {
        values.Sort();
        return values[Math.Min(values.Count - 1, (int)(q * values.Count))];
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
