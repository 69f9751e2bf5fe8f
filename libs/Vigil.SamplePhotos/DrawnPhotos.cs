using SkiaSharp;

namespace Vigil.SamplePhotos;

/// <summary>
/// Ordinary photos, drawn: an identity document as a learner photographs it (on a desk, filling the frame, or
/// scanned) and a webcam portrait. The pictures are drawn without any camera effect; <see cref="Camera"/> takes them
/// and <see cref="PhotoFiles"/> writes them. Same seed, same pixels.
/// </summary>
public static class DrawnPhotos
{
    /// <summary>The document for <paramref name="seed"/> in the ready-made photos: white, pastel, dark, patterned in turn; every third a passport page.</summary>
    public static DocumentScene SceneFor(int seed) => new(
        ((seed / 4) % 3) == 2 ? DocumentLayout.PassportPage : DocumentLayout.IdCard,
        (DocumentStyle)(((seed % 4) + 4) % 4),
        Framing.FillsFrame);

    /// <summary>An ID-document photo as the service asks for it: the document fills the frame, taken with a phone, JPEG.</summary>
    public static byte[] IdDocumentJpeg(int seed, int width = 800, int height = 600)
    {
        using var bitmap = Camera.Phone.Shoot(Document(SceneFor(seed), seed, width, height), seed);
        return PhotoFiles.Jpeg(bitmap, 90);
    }

    /// <summary>A face photo from a laptop webcam, JPEG.</summary>
    public static byte[] PortraitJpeg(int seed, int width = 800, int height = 600)
    {
        using var bitmap = Camera.Webcam.Shoot(Portrait(seed, width, height), seed);
        return PhotoFiles.Jpeg(bitmap, 85);
    }

    /// <summary>Draws a document scene (no camera effect yet).</summary>
    public static SKBitmap Document(DocumentScene scene, int seed, int width, int height)
    {
        var r = new Random(unchecked((seed * 7919) + 17));
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        var doc = DocumentPainter.Size(scene.Layout);
        float scale, angle, cx, cy;
        if (scene.Framing == Framing.Scan)
        {
            // The scanner's lid: an even, almost pure white; the document near the top-left corner, as laid on the glass.
            canvas.Clear(new SKColor(253, 253, 253));
            var mmPerPixel = 210f / width;
            scale = 0.1f / mmPerPixel;
            angle = (float)((r.NextDouble() - 0.5) * 1.0);
            cx = (width * 0.06f) + (doc.Width * scale / 2);
            cy = (height * 0.05f) + (doc.Height * scale / 2);
        }
        else
        {
            Desk(canvas, width, height, r);
            var fill = scene.Framing == Framing.FillsFrame ? 0.92f : 0.6f;
            scale = Math.Min(fill * width / doc.Width, (fill + 0.05f) * height / doc.Height) * (0.97f + (0.03f * (float)r.NextDouble()));
            var tilt = scene.Framing == Framing.FillsFrame ? 3.0 : 14.0;
            angle = (float)((r.NextDouble() - 0.5) * tilt);
            var shift = scene.Framing == Framing.FillsFrame ? 0.02f : 0.08f;
            cx = width * (0.5f + ((float)(r.NextDouble() - 0.5) * shift));
            cy = height * (0.5f + ((float)(r.NextDouble() - 0.5) * shift));
            if (scene.Framing == Framing.OnDesk) Pen(canvas, width, height, r);
        }
        canvas.Save();
        canvas.Translate(cx, cy);
        canvas.RotateDegrees(angle);
        canvas.Scale(scale);
        canvas.Translate(-doc.Width / 2, -doc.Height / 2);
        if (scene.Framing != Framing.Scan)
        {
            using var shadow = new SKPaint { IsAntialias = true, Color = new SKColor(0, 0, 0, 110), MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, 10) };
            canvas.Save();
            canvas.Translate(8, 12);
            canvas.DrawRoundRect(DocumentPainter.Outline(scene.Layout), shadow);
            canvas.Restore();
        }
        DocumentPainter.Draw(canvas, scene.Layout, scene.Style, r);
        canvas.Restore();
        if (scene.Framing != Framing.Scan) Light(canvas, width, height, r);
        return bitmap;
    }

    /// <summary>
    /// The document alone, cropped to its outline at <paramref name="width"/> pixels wide, transparent outside its rounded
    /// corners (what a phone's scanning app exports as PNG), taken by <paramref name="camera"/>.
    /// </summary>
    public static SKBitmap CutOut(DocumentLayout layout, DocumentStyle style, int seed, int width, Camera camera)
    {
        var doc = DocumentPainter.Size(layout);
        var scale = width / doc.Width;
        var height = (int)Math.Round(doc.Height * scale);
        var r = new Random(unchecked((seed * 7919) + 17));
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(128, 128, 128));
            canvas.Scale(scale);
            DocumentPainter.Draw(canvas, layout, style, r);
        }
        camera.Shoot(bitmap, seed);
        var cut = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(cut))
        {
            canvas.Clear(SKColors.Transparent);
            canvas.Scale(scale);
            canvas.ClipRoundRect(DocumentPainter.Outline(layout), SKClipOperation.Intersect, antialias: true);
            canvas.ResetMatrix();
            canvas.DrawBitmap(bitmap, 0, 0);
        }
        bitmap.Dispose();
        return cut;
    }

    /// <summary>Draws a webcam's view of a person (no camera effect yet).</summary>
    public static SKBitmap Portrait(int seed, int width, int height, PortraitLight light = PortraitLight.Normal)
    {
        var r = new Random(unchecked((seed * 104729) + 3));
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        PortraitPainter.DrawScene(canvas, width, height, light, r);
        return bitmap;
    }

    private static void Desk(SKCanvas canvas, int width, int height, Random r)
    {
        using var paint = new SKPaint { IsAntialias = true };
        if (r.Next(3) == 0)
        {
            // Grey laminate with speckles.
            var g = (byte)r.Next(120, 170);
            canvas.Clear(new SKColor(g, g, (byte)(g + 4)));
            for (var i = 0; i < width * height / 900; i++)
            {
                var v = (byte)(g + r.Next(-25, 26));
                paint.Color = new SKColor(v, v, v);
                canvas.DrawCircle((float)r.NextDouble() * width, (float)r.NextDouble() * height, 0.6f + ((float)r.NextDouble() * width / 800f), paint);
            }
            return;
        }
        // Wood: a warm base and wavy grain lines.
        var tone = r.Next(-20, 21);
        canvas.Clear(new SKColor((byte)(138 + tone), (byte)(98 + tone), (byte)(64 + tone)));
        paint.Style = SKPaintStyle.Stroke;
        for (var i = 0; i < 70; i++)
        {
            var dark = r.Next(2) == 0;
            paint.Color = dark ? new SKColor((byte)(104 + tone), (byte)(70 + tone), (byte)(44 + tone), 160) : new SKColor((byte)(162 + tone), (byte)(120 + tone), (byte)(82 + tone), 140);
            paint.StrokeWidth = (0.5f + ((float)r.NextDouble() * 2.5f)) * width / 800f;
            using var path = new SKPath();
            var y0 = (float)r.NextDouble() * height;
            var phase = r.NextDouble() * 6;
            for (var x = 0; x <= width; x += Math.Max(4, width / 100))
            {
                var y = y0 + (float)(height * 0.012 * Math.Sin((x * 6.0 / width) + phase));
                if (x == 0) path.MoveTo(x, y); else path.LineTo(x, y);
            }
            canvas.DrawPath(path, paint);
        }
    }

    private static void Pen(SKCanvas canvas, int width, int height, Random r)
    {
        using var paint = new SKPaint { IsAntialias = true };
        canvas.Save();
        canvas.Translate(width * 0.86f, height * (0.2f + (0.2f * (float)r.NextDouble())));
        canvas.RotateDegrees(75 + r.Next(0, 30));
        paint.Color = new SKColor(20, 40, 120);
        canvas.DrawRoundRect(SKRect.Create(0, 0, width * 0.3f, width * 0.018f), width * 0.009f, width * 0.009f, paint);
        paint.Color = new SKColor(200, 200, 205);
        canvas.DrawRect(SKRect.Create(width * 0.3f, width * 0.004f, width * 0.03f, width * 0.01f), paint);
        canvas.Restore();
    }

    /// <summary>A room's light: brighter where the lamp is, falling off across the picture.</summary>
    private static void Light(SKCanvas canvas, int width, int height, Random r)
    {
        var from = new SKPoint((float)r.NextDouble() * width, 0);
        var to = new SKPoint(width - from.X, height);
        using var paint = new SKPaint { BlendMode = SKBlendMode.Multiply };
        using var shader = SKShader.CreateLinearGradient(from, to, [SKColors.White, new SKColor(226, 226, 226)], SKShaderTileMode.Clamp);
        paint.Shader = shader;
        canvas.DrawRect(0, 0, width, height, paint);
    }
}
