using SkiaSharp;

namespace Vigil.Cli.Images;

/// <summary>
/// Sample photos for the demo and for trying the client without a camera: an ID card on a desk and a face in
/// front of a wall, 800x600 JPEG, well exposed, with fine grain so they are sharp, and different enough that
/// the identity service never takes one for the other. Same seed, same bytes.
/// </summary>
internal static class SampleImages
{
    public const int Width = 800;
    public const int Height = 600;

    /// <summary>A photo of an ID card (the document, not a face).</summary>
    public static byte[] IdDocument(int seed = 1) => Encode(Draw(seed, DrawIdCard));

    /// <summary>A photo of a face.</summary>
    public static byte[] Face(int seed = 2) => Encode(Draw(seed, DrawFace));

    private static SKBitmap Draw(int seed, Action<SKCanvas, Random> draw)
    {
        var rnd = new Random(seed);
        var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            draw(canvas, rnd);
        }
        AddGrain(bitmap, rnd, 10);
        return bitmap;
    }

    private static void DrawIdCard(SKCanvas canvas, Random r)
    {
        canvas.Clear(new SKColor(118, 94, 72));
        using var paint = new SKPaint { IsAntialias = true };
        paint.Color = new SKColor(92, 72, 55);
        for (var i = 0; i < 14; i++) canvas.DrawRect(0, r.Next(0, Height), Width, 2 + r.Next(0, 3), paint);
        var card = new SKRect(100, 110, 700, 490);
        paint.Color = new SKColor(50, 50, 50, 100);
        canvas.DrawRoundRect(new SKRect(card.Left + 7, card.Top + 9, card.Right + 7, card.Bottom + 9), 22, 22, paint);
        paint.Color = new SKColor(222, 230, 238);
        canvas.DrawRoundRect(card, 22, 22, paint);
        canvas.Save();
        canvas.ClipRoundRect(new SKRoundRect(card, 22, 22));
        paint.Color = new SKColor(30, 64, 128);
        canvas.DrawRect(card.Left, card.Top, card.Width, 68, paint);
        canvas.Restore();
        paint.Color = new SKColor(236, 240, 250);
        canvas.DrawRect(card.Left + 28, card.Top + 20, 280, 12, paint);
        canvas.DrawRect(card.Left + 28, card.Top + 42, 170, 8, paint);
        // A small grey portrait box: an ID card has one, but it is a small part of the photo.
        var portrait = new SKRect(card.Left + 28, card.Top + 95, card.Left + 170, card.Top + 280);
        paint.Color = new SKColor(170, 174, 182);
        canvas.DrawRect(portrait, paint);
        paint.Color = new SKColor(95, 88, 86);
        canvas.DrawOval(portrait.MidX, portrait.Top + 68, 34, 43, paint);
        canvas.DrawOval(portrait.MidX, portrait.Bottom, 60, 52, paint);
        // "Text": label bars and glyph-like value blocks.
        for (var line = 0; line < 6; line++)
        {
            var y = card.Top + 98 + (line * 31);
            paint.Color = new SKColor(128, 138, 158);
            canvas.DrawRect(card.Left + 195, y, 60 + r.Next(0, 50), 7, paint);
            paint.Color = new SKColor(32, 36, 46);
            var x = card.Left + 195f;
            var end = x + 150 + r.Next(0, 220);
            while (x < end)
            {
                var w = 5 + r.Next(0, 8);
                canvas.DrawRect(x, y + 11, w, 12, paint);
                x += w + 2 + r.Next(0, 3) + (r.Next(0, 6) == 0 ? 7 : 0);
            }
        }
        // The machine-readable zone: two rows of dense characters.
        paint.Color = new SKColor(25, 25, 30);
        for (var row = 0; row < 2; row++)
        {
            for (var c = 0; c < 44; c++)
            {
                var x = card.Left + 28 + (c * 12.8f);
                canvas.DrawRect(x, card.Bottom - 70 + (row * 26), 8, 14 - r.Next(0, 5), paint);
            }
        }
    }

    private static void DrawFace(SKCanvas canvas, Random r)
    {
        using var paint = new SKPaint { IsAntialias = true };
        using (var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(Width, Height),
                   [new SKColor(176, 196, 170), new SKColor(120, 142, 130)], SKShaderTileMode.Clamp))
        {
            paint.Shader = shader;
            canvas.DrawRect(0, 0, Width, Height, paint);
            paint.Shader = null;
        }
        // A shelf and a picture frame on the wall, for some structure.
        paint.Color = new SKColor(90, 70, 50);
        canvas.DrawRect(40, 120, 180, 14, paint);
        paint.Color = new SKColor(210, 190, 120);
        canvas.DrawRect(600, 60, 140, 110, paint);
        paint.Color = new SKColor(70, 100, 150);
        canvas.DrawRect(612, 72, 116, 86, paint);
        // Shoulders and neck.
        paint.Color = new SKColor(46, 70, 120);
        canvas.DrawOval(400, 610, 250, 150, paint);
        paint.Color = new SKColor(214, 168, 140);
        canvas.DrawRect(365, 380, 70, 90, paint);
        // Hair, then the face.
        paint.Color = new SKColor(62, 42, 30);
        canvas.DrawOval(400, 230, 135, 150, paint);
        paint.Color = new SKColor(226, 180, 150);
        canvas.DrawOval(400, 275, 112, 140, paint);
        // Eyes, brows, nose, mouth.
        paint.Color = new SKColor(250, 250, 250);
        canvas.DrawOval(355, 250, 22, 12, paint);
        canvas.DrawOval(445, 250, 22, 12, paint);
        paint.Color = new SKColor(60, 90, 60);
        canvas.DrawCircle(355, 250, 9, paint);
        canvas.DrawCircle(445, 250, 9, paint);
        paint.Color = new SKColor(20, 20, 20);
        canvas.DrawCircle(355, 250, 4, paint);
        canvas.DrawCircle(445, 250, 4, paint);
        paint.Color = new SKColor(70, 48, 36);
        canvas.DrawRect(330, 222, 50, 6, paint);
        canvas.DrawRect(420, 222, 50, 6, paint);
        paint.Color = new SKColor(196, 146, 120);
        canvas.DrawOval(400, 300, 14, 30, paint);
        paint.Color = new SKColor(170, 70, 70);
        canvas.DrawOval(400, 355, 40, 12, paint);
        _ = r;
    }

    private static void AddGrain(SKBitmap bitmap, Random r, int amplitude)
    {
        var pixels = bitmap.Pixels;
        for (var i = 0; i < pixels.Length; i++)
        {
            var p = pixels[i];
            var n = r.Next(-amplitude, amplitude + 1);
            pixels[i] = new SKColor(Clamp(p.Red + n), Clamp(p.Green + n), Clamp(p.Blue + n), 255);
        }
        bitmap.Pixels = pixels;
    }

    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);

    private static byte[] Encode(SKBitmap bitmap)
    {
        using (bitmap)
        using (var image = SKImage.FromBitmap(bitmap))
        using (var data = image.Encode(SKEncodedImageFormat.Jpeg, 90))
        {
            return data.ToArray();
        }
    }
}
