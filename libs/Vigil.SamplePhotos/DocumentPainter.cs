using SkiaSharp;

namespace Vigil.SamplePhotos;

/// <summary>
/// Draws an identity document in its own units (0.1 mm): an ID-1 card is 856 x 540, a passport data page 1250 x 880.
/// Header, portrait, labelled fields, signature, machine-readable zone; the names, dates and numbers change with the seed.
/// </summary>
internal static class DocumentPainter
{
    private static readonly string[] Surnames = ["MARTIN", "NGUYEN", "OKAFOR", "GARCIA", "JOHANSSON", "ROSSI", "KOWALSKA", "HADDAD", "TANAKA", "DUBOIS", "MBEKI", "SILVA"];
    private static readonly string[] GivenNames = ["JANE", "AMINA", "LUCAS", "SOFIA", "KENJI", "CHIARA", "MATEO", "LEILA", "OSKAR", "NADIA", "THEO", "IRIS"];
    private static readonly string[] Places = ["LYON", "DAKAR", "PORTO", "GENT", "OSAKA", "TORINO", "QUEBEC", "TUNIS"];

    public static SKSize Size(DocumentLayout layout) => layout == DocumentLayout.IdCard ? new SKSize(856, 540) : new SKSize(1250, 880);

    private sealed record Palette(SKColor Top, SKColor Bottom, SKColor Ink, SKColor Label, SKColor Accent, SKColor Pattern);

    private static Palette For(DocumentStyle style) => style switch
    {
        DocumentStyle.White => new(new SKColor(249, 249, 247), new SKColor(246, 247, 246), new SKColor(24, 27, 34), new SKColor(96, 104, 122), new SKColor(28, 66, 138), SKColors.Transparent),
        DocumentStyle.Pastel => new(new SKColor(240, 215, 228), new SKColor(212, 228, 243), new SKColor(30, 30, 42), new SKColor(110, 96, 120), new SKColor(120, 40, 90), SKColors.Transparent),
        DocumentStyle.Dark => new(new SKColor(30, 44, 78), new SKColor(18, 28, 54), new SKColor(236, 238, 244), new SKColor(150, 170, 204), new SKColor(214, 184, 96), SKColors.Transparent),
        _ => new(new SKColor(226, 238, 224), new SKColor(214, 232, 226), new SKColor(22, 40, 34), new SKColor(80, 110, 96), new SKColor(20, 90, 70), new SKColor(176, 208, 186)),
    };

    /// <summary>The document's outline (rounded corners for a card, square for a page).</summary>
    public static SKRoundRect Outline(DocumentLayout layout)
    {
        var size = Size(layout);
        var radius = layout == DocumentLayout.IdCard ? 32f : 6f;
        return new SKRoundRect(new SKRect(0, 0, size.Width, size.Height), radius, radius);
    }

    public static void Draw(SKCanvas canvas, DocumentLayout layout, DocumentStyle style, Random r)
    {
        var size = Size(layout);
        var p = For(style);
        var card = layout == DocumentLayout.IdCard;
        canvas.Save();
        canvas.ClipRoundRect(Outline(layout), SKClipOperation.Intersect, antialias: true);
        using (var paint = new SKPaint { IsAntialias = true })
        using (var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(size.Width, size.Height), [p.Top, p.Bottom], SKShaderTileMode.Clamp))
        {
            paint.Shader = shader;
            canvas.DrawRect(0, 0, size.Width, size.Height, paint);
        }
        if (style == DocumentStyle.Patterned) Guilloche(canvas, size, p.Pattern, r);
        var k = card ? 1f : 1.35f; // the page's print is larger
        var margin = 40 * k;
        // Header: the document's title and the issuing country.
        GlyphFont.Draw(canvas, card ? "IDENTITY CARD" : "PASSPORT", margin, 26 * k, 30 * k, p.Accent);
        GlyphFont.Draw(canvas, "REPUBLIC OF VIGILIA", margin, 66 * k, 15 * k, p.Label);
        if (!card) GlyphFont.Draw(canvas, "P  VGA", size.Width - (300 * k), 30 * k, 20 * k, p.Ink);
        using (var line = new SKPaint { IsAntialias = true, Color = p.Accent, StrokeWidth = 3 * k, Style = SKPaintStyle.Stroke })
        {
            canvas.DrawLine(margin, 92 * k, size.Width - margin, 92 * k, line);
        }
        // Portrait on a light backdrop.
        var photo = SKRect.Create(margin, 108 * k, 200 * k, 250 * k);
        PortraitPainter.DrawIdPhoto(canvas, photo, r);
        // Fields: a small label above each value.
        var surname = Surnames[r.Next(Surnames.Length)];
        var given = GivenNames[r.Next(GivenNames.Length)] + (r.Next(3) == 0 ? " " + GivenNames[r.Next(GivenNames.Length)] : "");
        var birth = new DateOnly(1965, 1, 1).AddDays(r.Next(0, 14000));
        var expiry = new DateOnly(2027, 1, 1).AddDays(r.Next(0, 3000));
        var number = string.Concat(Enumerable.Range(0, 9).Select(_ => "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"[r.Next(33)]));
        var sex = r.Next(2) == 0 ? "F" : "M";
        (string Label, string Value)[] fields =
        [
            ("SURNAME / NOM", surname),
            ("GIVEN NAMES / PRENOMS", given),
            ("DATE OF BIRTH", birth.ToString("dd MM yyyy", System.Globalization.CultureInfo.InvariantCulture)),
            ("PLACE OF BIRTH", Places[r.Next(Places.Length)]),
            ("SEX     NATIONALITY", sex + "       VGA"),
            ("DOCUMENT NO", number),
            ("DATE OF EXPIRY", expiry.ToString("dd MM yyyy", System.Globalization.CultureInfo.InvariantCulture)),
        ];
        var fx = photo.Right + (30 * k);
        var rows = card ? 6 : 7;
        for (var i = 0; i < rows; i++)
        {
            var y = photo.Top + (i * 44 * k);
            GlyphFont.Draw(canvas, fields[i].Label, fx, y, 10 * k, p.Label);
            GlyphFont.Draw(canvas, fields[i].Value, fx, y + (15 * k), 19 * k, p.Ink);
        }
        Signature(canvas, new SKRect(fx + (260 * k), photo.Bottom - (40 * k), fx + (440 * k), photo.Bottom - (2 * k)), p.Ink, r);
        // Machine-readable zone (ICAO 9303: TD1 three lines of 30, TD3 two lines of 44).
        string[] mrz = card
            ? [Pad("IDVGA" + number + "<", 30), Pad(Mrz(birth) + "0" + sex + Mrz(expiry) + "0VGA", 30), Pad(surname + "<<" + given.Replace(' ', '<'), 30)]
            : [Pad("P<VGA" + surname + "<<" + given.Replace(' ', '<'), 44), Pad(number + "0VGA" + Mrz(birth) + "0" + sex + Mrz(expiry) + "0", 44)];
        var mrzHeight = card ? 20f : 27f;
        var mrzTop = size.Height - (mrz.Length * mrzHeight * 1.55f) - (18 * k);
        for (var i = 0; i < mrz.Length; i++)
        {
            GlyphFont.Draw(canvas, mrz[i], margin, mrzTop + (i * mrzHeight * 1.55f), mrzHeight, p.Ink);
        }
        canvas.Restore();
    }

    private static string Mrz(DateOnly d) => d.ToString("yyMMdd", System.Globalization.CultureInfo.InvariantCulture);

    private static string Pad(string s, int n) => s.Length >= n ? s[..n] : s + new string('<', n - s.Length);

    private static void Signature(SKCanvas canvas, SKRect box, SKColor ink, Random r)
    {
        using var paint = new SKPaint { IsAntialias = true, Color = ink, Style = SKPaintStyle.Stroke, StrokeWidth = box.Height / 14, StrokeCap = SKStrokeCap.Round };
        using var path = new SKPath();
        path.MoveTo(box.Left, box.MidY);
        var n = 7 + r.Next(5);
        for (var i = 1; i <= n; i++)
        {
            var x = box.Left + (box.Width * i / n);
            path.QuadTo(x - (box.Width / n / 2), box.Top + ((float)r.NextDouble() * box.Height), x, box.Top + ((float)r.NextDouble() * box.Height));
        }
        canvas.DrawPath(path, paint);
    }

    /// <summary>Fine wavy lines across the whole document and a rosette, as printed under security documents' text.</summary>
    private static void Guilloche(SKCanvas canvas, SKSize size, SKColor color, Random r)
    {
        using var paint = new SKPaint { IsAntialias = true, Color = color, Style = SKPaintStyle.Stroke, StrokeWidth = 1.6f };
        var phase = r.NextDouble() * Math.PI;
        for (var i = 0; i < 60; i++)
        {
            using var path = new SKPath();
            var baseY = i * size.Height / 50;
            for (var x = 0f; x <= size.Width; x += 6)
            {
                var y = baseY + (float)(18 * Math.Sin((x / 70.0) + (i * 0.35) + phase)) + (float)(7 * Math.Sin((x / 23.0) - (i * 0.2)));
                if (x == 0) path.MoveTo(x, y); else path.LineTo(x, y);
            }
            canvas.DrawPath(path, paint);
        }
        var c = new SKPoint(size.Width * 0.78f, size.Height * 0.55f);
        for (var i = 0; i < 36; i++)
        {
            var a = i * Math.PI / 18;
            canvas.DrawOval(new SKPoint(c.X + (float)(60 * Math.Cos(a)), c.Y + (float)(60 * Math.Sin(a))), new SKSize(70, 70), paint);
        }
    }
}
