using SkiaSharp;

namespace Vigil.SamplePhotos;

/// <summary>
/// A 5x7 dot-matrix font (capitals, digits, the MRZ filler <c>&lt;</c> and a little punctuation), drawn as filled
/// cells: real letter shapes with crisp edges, independent of the fonts a machine has (SkiaSharp's
/// no-dependency build finds none).
/// </summary>
public static class GlyphFont
{
    /// <summary>Columns of a glyph; the advance is one more.</summary>
    public const int Columns = 5;

    /// <summary>Rows of a glyph.</summary>
    public const int Rows = 7;

    private static readonly Dictionary<char, string> Glyphs = new()
    {
        ['A'] = "01110 10001 10001 11111 10001 10001 10001",
        ['B'] = "11110 10001 10001 11110 10001 10001 11110",
        ['C'] = "01110 10001 10000 10000 10000 10001 01110",
        ['D'] = "11100 10010 10001 10001 10001 10010 11100",
        ['E'] = "11111 10000 10000 11110 10000 10000 11111",
        ['F'] = "11111 10000 10000 11110 10000 10000 10000",
        ['G'] = "01110 10001 10000 10111 10001 10001 01111",
        ['H'] = "10001 10001 10001 11111 10001 10001 10001",
        ['I'] = "01110 00100 00100 00100 00100 00100 01110",
        ['J'] = "00111 00010 00010 00010 00010 10010 01100",
        ['K'] = "10001 10010 10100 11000 10100 10010 10001",
        ['L'] = "10000 10000 10000 10000 10000 10000 11111",
        ['M'] = "10001 11011 10101 10101 10001 10001 10001",
        ['N'] = "10001 10001 11001 10101 10011 10001 10001",
        ['O'] = "01110 10001 10001 10001 10001 10001 01110",
        ['P'] = "11110 10001 10001 11110 10000 10000 10000",
        ['Q'] = "01110 10001 10001 10001 10101 10010 01101",
        ['R'] = "11110 10001 10001 11110 10100 10010 10001",
        ['S'] = "01111 10000 10000 01110 00001 00001 11110",
        ['T'] = "11111 00100 00100 00100 00100 00100 00100",
        ['U'] = "10001 10001 10001 10001 10001 10001 01110",
        ['V'] = "10001 10001 10001 10001 10001 01010 00100",
        ['W'] = "10001 10001 10001 10101 10101 10101 01010",
        ['X'] = "10001 10001 01010 00100 01010 10001 10001",
        ['Y'] = "10001 10001 10001 01010 00100 00100 00100",
        ['Z'] = "11111 00001 00010 00100 01000 10000 11111",
        ['0'] = "01110 10001 10011 10101 11001 10001 01110",
        ['1'] = "00100 01100 00100 00100 00100 00100 01110",
        ['2'] = "01110 10001 00001 00010 00100 01000 11111",
        ['3'] = "11111 00010 00100 00010 00001 10001 01110",
        ['4'] = "00010 00110 01010 10010 11111 00010 00010",
        ['5'] = "11111 10000 11110 00001 00001 10001 01110",
        ['6'] = "00110 01000 10000 11110 10001 10001 01110",
        ['7'] = "11111 00001 00010 00100 01000 01000 01000",
        ['8'] = "01110 10001 10001 01110 10001 10001 01110",
        ['9'] = "01110 10001 10001 01111 00001 00010 01100",
        ['<'] = "00010 00100 01000 10000 01000 00100 00010",
        ['/'] = "00001 00001 00010 00100 01000 10000 10000",
        ['.'] = "00000 00000 00000 00000 00000 01100 01100",
        [','] = "00000 00000 00000 00000 01100 00100 01000",
        ['-'] = "00000 00000 00000 11111 00000 00000 00000",
        [':'] = "00000 01100 01100 00000 01100 01100 00000",
        ['\''] = "00100 00100 01000 00000 00000 00000 00000",
        [' '] = "00000 00000 00000 00000 00000 00000 00000",
    };

    /// <summary>The width of <paramref name="text"/> drawn with capitals <paramref name="height"/> high.</summary>
    public static float Measure(string text, float height) => text.Length * (Columns + 1) * (height / Rows);

    /// <summary>
    /// Draws <paramref name="text"/> (lower case is drawn as capitals; characters without a glyph as a box) with its
    /// top-left corner at (<paramref name="x"/>, <paramref name="y"/>), capitals <paramref name="height"/> high.
    /// </summary>
    public static void Draw(SKCanvas canvas, string text, float x, float y, float height, SKColor color)
    {
        var cell = height / Rows;
        using var path = new SKPath { FillType = SKPathFillType.Winding };
        foreach (var raw in text)
        {
            var c = char.ToUpperInvariant(raw);
            var rows = (Glyphs.TryGetValue(c, out var g) ? g : "11111 10001 10001 10001 10001 10001 11111").Split(' ');
            for (var r = 0; r < Rows; r++)
            {
                for (var col = 0; col < Columns; col++)
                {
                    // Cells overlap a hair so that a stroke has no seams between them.
                    if (rows[r][col] == '1') path.AddRect(new SKRect(x + (col * cell), y + (r * cell), x + ((col + 1) * cell) + (cell * 0.08f), y + ((r + 1) * cell) + (cell * 0.08f)));
                }
            }
            x += (Columns + 1) * cell;
        }
        using var paint = new SKPaint { IsAntialias = true, Color = color, Style = SKPaintStyle.Fill };
        canvas.DrawPath(path, paint);
    }
}
