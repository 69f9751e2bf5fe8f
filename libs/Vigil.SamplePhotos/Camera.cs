using SkiaSharp;

namespace Vigil.SamplePhotos;

/// <summary>
/// What a camera does to a scene: focus (Gaussian blur), motion blur, exposure in linear light (a factor of
/// 2^<see cref="ExposureEv"/>, clipped at white), flare (veiling glare that lifts the blacks), vignetting and sensor
/// noise. Blur and noise are in pixels / levels of a picture 800 pixels wide and scale with its size.
/// </summary>
/// <param name="ExposureEv">Exposure against a correct one, in stops: +1 doubles the light (whites clip), -3 is an eighth.</param>
/// <param name="Flare">Veiling glare added to every pixel, as a share of white in linear light (0.3 washes a picture out).</param>
/// <param name="FocusBlur">Gaussian blur sigma, pixels at 800 wide (0.5 a good lens, 8 badly out of focus).</param>
/// <param name="MotionBlur">Horizontal motion blur length, pixels at 800 wide.</param>
/// <param name="Noise">Sensor noise, standard deviation in levels (0-255).</param>
/// <param name="Vignette">How much darker the corners are than the centre (0.2 = 20 %).</param>
public sealed record Camera(double ExposureEv = 0, double Flare = 0, double FocusBlur = 0.6, double MotionBlur = 0, double Noise = 2, double Vignette = 0.12)
{
    /// <summary>A laptop webcam: soft, noisy, darker corners.</summary>
    public static Camera Webcam { get; } = new(FocusBlur: 1.1, Noise: 3.5, Vignette: 0.2);

    /// <summary>A phone camera: sharp, little noise.</summary>
    public static Camera Phone { get; } = new(FocusBlur: 0.5, Noise: 1.5, Vignette: 0.1);

    /// <summary>A flatbed scanner: sharp, even light, almost no noise.</summary>
    public static Camera Scanner { get; } = new(FocusBlur: 0.4, Noise: 0.8, Vignette: 0);

    private static readonly float[] ToLinear = [.. Enumerable.Range(0, 256).Select(v => (float)SrgbToLinear(v / 255.0))];
    private static readonly byte[] ToSrgb = [.. Enumerable.Range(0, 4096).Select(i => (byte)Math.Round(255 * LinearToSrgb(i / 4095.0)))];

    /// <summary>Takes the picture: changes <paramref name="bitmap"/> (opaque RGBA) in place; same seed, same pixels.</summary>
    public SKBitmap Shoot(SKBitmap bitmap, int seed)
    {
        var scale = bitmap.Width / 800.0;
        if (FocusBlur > 0) GaussianBlur(bitmap, FocusBlur * scale);
        if (MotionBlur > 0) HorizontalBoxBlur(bitmap, Math.Max(1, (int)Math.Round(MotionBlur * scale)));
        Expose(bitmap);
        if (Noise > 0) AddNoise(bitmap, Noise, new Random(unchecked((seed * 31) + 7)));
        return bitmap;
    }

    private static void GaussianBlur(SKBitmap bitmap, double sigma)
    {
        using var copy = bitmap.Copy();
        using var canvas = new SKCanvas(bitmap);
        using var paint = new SKPaint { ImageFilter = SKImageFilter.CreateBlur((float)sigma, (float)sigma, SKShaderTileMode.Clamp) };
        canvas.Clear(SKColors.Black);
        canvas.DrawBitmap(copy, 0, 0, paint);
    }

    private static void HorizontalBoxBlur(SKBitmap bitmap, int length)
    {
        int w = bitmap.Width, h = bitmap.Height, rowBytes = bitmap.RowBytes;
        var px = bitmap.GetPixelSpan();
        var row = new byte[w * 4];
        var half = length / 2;
        for (var y = 0; y < h; y++)
        {
            var line = px.Slice(y * rowBytes, w * 4);
            line.CopyTo(row);
            for (var c = 0; c < 3; c++)
            {
                var sum = 0;
                for (var k = -half; k < length - half; k++) sum += row[(Math.Clamp(k, 0, w - 1) * 4) + c];
                for (var x = 0; x < w; x++)
                {
                    line[(x * 4) + c] = (byte)((sum + (length / 2)) / length);
                    sum += row[(Math.Clamp(x + length - half, 0, w - 1) * 4) + c] - row[(Math.Clamp(x - half, 0, w - 1) * 4) + c];
                }
            }
        }
    }

    private void Expose(SKBitmap bitmap)
    {
        if (ExposureEv == 0 && Flare == 0 && Vignette == 0) return;
        int w = bitmap.Width, h = bitmap.Height, rowBytes = bitmap.RowBytes;
        var px = bitmap.GetPixelSpan();
        var gain = (float)Math.Pow(2, ExposureEv);
        var flare = (float)Flare;
        double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0, d2 = (cx * cx) + (cy * cy);
        for (var y = 0; y < h; y++)
        {
            var line = px.Slice(y * rowBytes, w * 4);
            var dy = (y - cy) * (y - cy);
            for (var x = 0; x < w; x++)
            {
                var g = gain * (float)(1 - (Vignette * (((x - cx) * (x - cx)) + dy) / d2));
                for (var c = 0; c < 3; c++)
                {
                    var i = (x * 4) + c;
                    var linear = (ToLinear[line[i]] * g) + flare;
                    line[i] = ToSrgb[(int)(Math.Clamp(linear, 0f, 1f) * 4095 + 0.5f)];
                }
            }
        }
    }

    private static void AddNoise(SKBitmap bitmap, double sigma, Random rnd)
    {
        var px = bitmap.GetPixelSpan();
        for (var i = 0; i < px.Length; i += 4)
        {
            // Luminance noise (the same on all channels) plus a little colour noise; a sum of uniforms is near Gaussian.
            var luma = (rnd.NextDouble() + rnd.NextDouble() + rnd.NextDouble() - 1.5) * 2 * sigma;
            for (var c = 0; c < 3; c++)
            {
                var chroma = (rnd.NextDouble() - 0.5) * sigma;
                px[i + c] = (byte)Math.Clamp(Math.Round(px[i + c] + luma + chroma), 0, 255);
            }
        }
    }

    private static double SrgbToLinear(double v) => v <= 0.04045 ? v / 12.92 : Math.Pow((v + 0.055) / 1.055, 2.4);

    private static double LinearToSrgb(double v) => v <= 0.0031308 ? v * 12.92 : (1.055 * Math.Pow(v, 1 / 2.4)) - 0.055;
}
