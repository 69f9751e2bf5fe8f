using SkiaSharp;

namespace Vigil.SamplePhotos;

/// <summary>
/// Draws people: a webcam portrait in a room (head and shoulders, a wall, a shelf, a window or a door) and the small
/// formal portrait printed on an ID document. Skin tone, hair, glasses, clothes and room change with the seed.
/// </summary>
internal static class PortraitPainter
{
    private static readonly SKColor[] Skins =
    [
        new(241, 204, 178), new(224, 178, 146), new(198, 146, 108), new(160, 110, 78), new(118, 78, 54), new(86, 58, 42),
    ];

    private static readonly SKColor[] Hairs =
    [
        new(24, 20, 18), new(58, 40, 28), new(102, 70, 44), new(182, 146, 94), new(150, 146, 142), new(120, 52, 30),
    ];

    private static readonly SKColor[] Clothes =
    [
        new(38, 52, 92), new(150, 36, 44), new(60, 60, 64), new(214, 214, 206), new(46, 100, 70), new(196, 150, 60),
    ];

    private static readonly SKColor[] Walls =
    [
        new(214, 204, 186), new(176, 188, 200), new(196, 208, 188), new(226, 224, 218), new(190, 170, 160),
    ];

    private sealed record Look(SKColor Skin, SKColor Hair, SKColor Clothes, bool LongHair, bool Glasses, float HeadWidth, float HeadHeight);

    private static Look NewLook(Random r) => new(
        Skins[r.Next(Skins.Length)],
        Hairs[r.Next(Hairs.Length)],
        Clothes[r.Next(Clothes.Length)],
        r.Next(2) == 0,
        r.Next(4) == 0,
        0.165f + ((float)r.NextDouble() * 0.03f),
        0.22f + ((float)r.NextDouble() * 0.03f));

    /// <summary>A webcam's view of a person at a desk, filling <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static void DrawScene(SKCanvas canvas, int width, int height, PortraitLight light, Random r)
    {
        var wall = Walls[r.Next(Walls.Length)];
        using var paint = new SKPaint { IsAntialias = true };
        using (var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width * 0.3f, height),
                   [Shade(wall, 1.04f), Shade(wall, 0.82f)], SKShaderTileMode.Clamp))
        {
            paint.Shader = shader;
            canvas.DrawRect(0, 0, width, height, paint);
            paint.Shader = null;
        }
        var left = r.Next(2) == 0;
        var side = left ? 0.04f * width : 0.7f * width;
        if (light != PortraitLight.Normal)
        {
            // A window behind the person: daylight, frame and mullions.
            var window = SKRect.Create(width * 0.18f, height * 0.06f, width * 0.64f, height * 0.62f);
            paint.Color = new SKColor(236, 242, 250);
            canvas.DrawRect(window, paint);
            paint.Color = new SKColor(250, 252, 255);
            canvas.DrawRect(SKRect.Inflate(window, -width * 0.02f, -width * 0.02f), paint);
            paint.Color = Shade(wall, 0.7f);
            canvas.DrawRect(window.MidX - (width * 0.006f), window.Top, width * 0.012f, window.Height, paint);
            canvas.DrawRect(window.Left, window.MidY - (width * 0.006f), window.Width, width * 0.012f, paint);
        }
        else if (r.Next(2) == 0)
        {
            // A bookshelf: a board and book spines.
            paint.Color = new SKColor(92, 66, 44);
            canvas.DrawRect(side, height * 0.18f, width * 0.26f, height * 0.025f, paint);
            canvas.DrawRect(side, height * 0.45f, width * 0.26f, height * 0.025f, paint);
            foreach (var shelfTop in new[] { height * 0.18f, height * 0.45f })
            {
                var x = side + 4f;
                while (x < side + (width * 0.25f))
                {
                    var w = width * (0.012f + ((float)r.NextDouble() * 0.02f));
                    var h = height * (0.12f + ((float)r.NextDouble() * 0.1f));
                    paint.Color = new SKColor((byte)r.Next(40, 200), (byte)r.Next(40, 180), (byte)r.Next(40, 170));
                    canvas.DrawRect(x, shelfTop - h, w, h, paint);
                    x += w + 1.5f;
                }
            }
        }
        else
        {
            // A door frame and a picture.
            paint.Color = Shade(wall, 0.75f);
            canvas.DrawRect(side, height * 0.05f, width * 0.2f, height, paint);
            paint.Color = Shade(wall, 0.92f);
            canvas.DrawRect(side + (width * 0.015f), height * 0.08f, width * 0.17f, height, paint);
            var px = left ? width * 0.72f : width * 0.08f;
            paint.Color = new SKColor(60, 44, 34);
            canvas.DrawRect(px, height * 0.12f, width * 0.16f, height * 0.2f, paint);
            paint.Color = new SKColor((byte)r.Next(90, 200), (byte)r.Next(110, 200), (byte)r.Next(120, 210));
            canvas.DrawRect(px + (width * 0.01f), height * 0.135f, width * 0.14f, height * 0.17f, paint);
        }
        var box = SKRect.Create(width * (0.22f + ((float)r.NextDouble() * 0.08f)), height * (0.08f + ((float)r.NextDouble() * 0.06f)), width * 0.52f, height * 0.95f);
        if (light != PortraitLight.Normal)
        {
            // The camera exposes for the window: the person is darker (a dark shape with nothing left in the face when
            // the window is the only light).
            var f = light == PortraitLight.Backlit ? 0.04f : 0.5f;
            using var dim = new SKPaint { ColorFilter = SKColorFilter.CreateColorMatrix([f, 0, 0, 0, 0, 0, f, 0, 0, 0, 0, 0, f, 0, 0, 0, 0, 0, 1, 0]) };
            canvas.SaveLayer(dim);
            DrawPerson(canvas, box, NewLook(r), r);
            canvas.Restore();
        }
        else
        {
            DrawPerson(canvas, box, NewLook(r), r);
        }
        // The desk's edge at the bottom.
        paint.Color = new SKColor(120, 96, 72);
        canvas.DrawRect(0, height * 0.93f, width, height * 0.07f, paint);
    }

    /// <summary>The ID document's portrait: a person in front of a plain light backdrop, inside <paramref name="box"/>.</summary>
    public static void DrawIdPhoto(SKCanvas canvas, SKRect box, Random r)
    {
        canvas.Save();
        canvas.ClipRect(box, SKClipOperation.Intersect, antialias: true);
        using (var paint = new SKPaint { IsAntialias = true })
        using (var shader = SKShader.CreateRadialGradient(new SKPoint(box.MidX, box.MidY), box.Height * 0.8f, [new SKColor(226, 230, 234), new SKColor(196, 202, 210)], SKShaderTileMode.Clamp))
        {
            paint.Shader = shader;
            canvas.DrawRect(box, paint);
        }
        DrawPerson(canvas, SKRect.Create(box.Left - (box.Width * 0.1f), box.Top + (box.Height * 0.02f), box.Width * 1.2f, box.Height * 1.12f), NewLook(r), r);
        canvas.Restore();
    }

    private static void DrawPerson(SKCanvas canvas, SKRect box, Look look, Random r)
    {
        float w = box.Width, h = box.Height, cx = box.MidX;
        var cy = box.Top + (0.33f * h);
        float rx = look.HeadWidth * w, ry = look.HeadHeight * h;
        using var paint = new SKPaint { IsAntialias = true };
        // Long hair behind the shoulders.
        if (look.LongHair)
        {
            paint.Color = Shade(look.Hair, 0.85f);
            canvas.DrawRoundRect(SKRect.Create(cx - (rx * 1.25f), cy - (ry * 0.9f), rx * 2.5f, ry * 2.6f), rx * 0.6f, rx * 0.6f, paint);
        }
        // Torso with a light from the left: a gradient across the clothes.
        using (var shader = SKShader.CreateLinearGradient(new SKPoint(cx - (0.45f * w), 0), new SKPoint(cx + (0.45f * w), 0), [Shade(look.Clothes, 1.12f), Shade(look.Clothes, 0.7f)], SKShaderTileMode.Clamp))
        {
            paint.Shader = shader;
            canvas.DrawOval(new SKPoint(cx, cy + (ry * 1.25f) + (0.32f * h)), new SKSize(0.62f * w, 0.32f * h), paint);
            paint.Shader = null;
        }
        // Neck, with the chin's shadow, and the collar's opening.
        paint.Color = Shade(look.Skin, 0.78f);
        canvas.DrawRect(cx - (rx * 0.45f), cy + (ry * 0.6f), rx * 0.9f, ry * 0.75f, paint);
        using (var collar = new SKPath())
        {
            collar.MoveTo(cx - (rx * 0.6f), cy + (ry * 1.25f));
            collar.LineTo(cx, cy + (ry * 1.7f));
            collar.LineTo(cx + (rx * 0.6f), cy + (ry * 1.25f));
            collar.Close();
            paint.Color = Shade(look.Skin, 0.85f);
            canvas.DrawPath(collar, paint);
        }
        // Ears, then the face, lit from the left.
        paint.Color = Shade(look.Skin, 0.88f);
        canvas.DrawOval(new SKPoint(cx - rx, cy + (ry * 0.05f)), new SKSize(rx * 0.16f, ry * 0.2f), paint);
        canvas.DrawOval(new SKPoint(cx + rx, cy + (ry * 0.05f)), new SKSize(rx * 0.16f, ry * 0.2f), paint);
        using (var shader = SKShader.CreateRadialGradient(new SKPoint(cx - (rx * 0.3f), cy - (ry * 0.2f)), ry * 1.4f, [Shade(look.Skin, 1.08f), Shade(look.Skin, 0.98f), Shade(look.Skin, 0.74f)], [0f, 0.5f, 1f], SKShaderTileMode.Clamp))
        {
            paint.Shader = shader;
            canvas.DrawOval(new SKPoint(cx, cy), new SKSize(rx, ry), paint);
            paint.Shader = null;
        }
        // Hair on top.
        paint.Color = look.Hair;
        using (var hair = new SKPath())
        {
            hair.AddOval(SKRect.Create(cx - (rx * 1.08f), cy - (ry * 1.12f), rx * 2.16f, ry * 1.05f));
            canvas.Save();
            canvas.ClipRect(SKRect.Create(cx - (rx * 1.2f), cy - (ry * 1.3f), rx * 2.4f, ry * 0.95f));
            canvas.DrawPath(hair, paint);
            canvas.Restore();
        }
        // Brows, eyes (white, iris, pupil, a catch light), nose, mouth.
        var eyeY = cy - (ry * 0.08f);
        var iris = new SKColor((byte)r.Next(40, 110), (byte)r.Next(50, 110), (byte)r.Next(30, 90));
        foreach (var side in new[] { -1f, 1f })
        {
            var ex = cx + (side * rx * 0.42f);
            paint.Color = Shade(look.Hair, 0.9f);
            canvas.DrawRoundRect(SKRect.Create(ex - (rx * 0.22f), eyeY - (ry * 0.2f), rx * 0.44f, ry * 0.055f), rx * 0.03f, rx * 0.03f, paint);
            paint.Color = new SKColor(236, 234, 230);
            canvas.DrawOval(new SKPoint(ex, eyeY), new SKSize(rx * 0.19f, ry * 0.065f), paint);
            paint.Color = iris;
            canvas.DrawCircle(ex, eyeY, ry * 0.06f, paint);
            paint.Color = new SKColor(12, 10, 10);
            canvas.DrawCircle(ex, eyeY, ry * 0.028f, paint);
            paint.Color = new SKColor(250, 250, 250);
            canvas.DrawCircle(ex - (ry * 0.02f), eyeY - (ry * 0.02f), ry * 0.011f, paint);
        }
        paint.Color = Shade(look.Skin, 0.8f);
        canvas.DrawOval(new SKPoint(cx + (rx * 0.06f), cy + (ry * 0.2f)), new SKSize(rx * 0.1f, ry * 0.2f), paint);
        paint.Color = Shade(look.Skin, 0.62f);
        canvas.DrawOval(new SKPoint(cx - (rx * 0.09f), cy + (ry * 0.36f)), new SKSize(rx * 0.05f, ry * 0.03f), paint);
        canvas.DrawOval(new SKPoint(cx + (rx * 0.11f), cy + (ry * 0.36f)), new SKSize(rx * 0.05f, ry * 0.03f), paint);
        paint.Color = new SKColor((byte)Math.Min(255, (look.Skin.Red * 0.75) + 30), (byte)(look.Skin.Green * 0.5), (byte)(look.Skin.Blue * 0.5));
        canvas.DrawOval(new SKPoint(cx, cy + (ry * 0.6f)), new SKSize(rx * 0.34f, ry * 0.07f), paint);
        paint.Color = Shade(look.Skin, 0.45f);
        canvas.DrawRect(cx - (rx * 0.3f), cy + (ry * 0.595f), rx * 0.6f, ry * 0.014f, paint);
        if (look.Glasses)
        {
            using var frame = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1f, rx * 0.045f), Color = new SKColor(30, 30, 34) };
            canvas.DrawRoundRect(SKRect.Create(cx - (rx * 0.72f), eyeY - (ry * 0.16f), rx * 0.6f, ry * 0.3f), rx * 0.1f, rx * 0.1f, frame);
            canvas.DrawRoundRect(SKRect.Create(cx + (rx * 0.12f), eyeY - (ry * 0.16f), rx * 0.6f, ry * 0.3f), rx * 0.1f, rx * 0.1f, frame);
            canvas.DrawLine(cx - (rx * 0.12f), eyeY - (ry * 0.05f), cx + (rx * 0.12f), eyeY - (ry * 0.05f), frame);
        }
    }

    internal static SKColor Shade(SKColor c, float f) =>
        new((byte)Math.Clamp(c.Red * f, 0, 255), (byte)Math.Clamp(c.Green * f, 0, 255), (byte)Math.Clamp(c.Blue * f, 0, 255), c.Alpha);
}
