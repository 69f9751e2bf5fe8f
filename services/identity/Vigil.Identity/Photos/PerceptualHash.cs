using System.Numerics;

namespace Vigil.Identity.Photos;

/// <summary>
/// A 64-bit DCT perceptual hash (pHash): the picture shrunk to 32x32 grey, its low 8x8 frequencies compared
/// with their median. Two photos of the same picture (re-encoded, rescaled, slightly re-lit) stay within a few bits.
/// </summary>
internal static class PerceptualHash
{
    private const int Size = 32;
    private static readonly double[,] Cosines = BuildCosines();

    public static ulong Compute(float[] gray, int width, int height)
    {
        var small = new double[Size, Size];
        // Area average into 32x32 cells.
        for (var cy = 0; cy < Size; cy++)
        {
            int y0 = cy * height / Size, y1 = Math.Max(y0 + 1, (cy + 1) * height / Size);
            for (var cx = 0; cx < Size; cx++)
            {
                int x0 = cx * width / Size, x1 = Math.Max(x0 + 1, (cx + 1) * width / Size);
                double s = 0;
                var c = 0;
                for (var y = y0; y < y1 && y < height; y++)
                {
                    for (var x = x0; x < x1 && x < width; x++)
                    {
                        s += gray[(y * width) + x];
                        c++;
                    }
                }
                small[cy, cx] = c == 0 ? 0 : s / c;
            }
        }
        var coefficients = new double[64];
        for (var u = 0; u < 8; u++)
        {
            for (var v = 0; v < 8; v++)
            {
                double s = 0;
                for (var y = 0; y < Size; y++)
                {
                    for (var x = 0; x < Size; x++)
                    {
                        s += small[y, x] * Cosines[u, y] * Cosines[v, x];
                    }
                }
                coefficients[(u * 8) + v] = s;
            }
        }
        var ac = coefficients[1..].Order().ToArray();
        var median = (ac[31] + ac[32]) / 2;
        ulong hash = 0;
        for (var i = 1; i < 64; i++)
        {
            if (coefficients[i] > median) hash |= 1UL << i;
        }
        return hash;
    }

    public static int Distance(ulong a, ulong b) => BitOperations.PopCount(a ^ b);

    private static double[,] BuildCosines()
    {
        var c = new double[8, Size];
        for (var u = 0; u < 8; u++)
        {
            for (var x = 0; x < Size; x++)
            {
                c[u, x] = Math.Cos((2 * x + 1) * u * Math.PI / (2 * Size));
            }
        }
        return c;
    }
}
