using System.Numerics;

namespace Vigil.Identity.Photos;

/// <summary>
/// A 64-bit DCT perceptual hash (pHash): the picture shrunk to 32x32 grey, its low 8x8 frequencies compared
/// with their median. Two photos of the same picture (re-encoded, rescaled, slightly re-lit) stay within a few bits.
/// </summary>
internal static class PerceptualHash
{
    private const int Size = 32;
    private static readonly double[] Cosines = BuildCosines();

    public static ulong Compute(ReadOnlySpan<float> gray, int width, int height)
    {
        Span<double> small = stackalloc double[Size * Size];
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
                small[(cy * Size) + cx] = c == 0 ? 0 : s / c;
            }
        }
        // The 8x8 lowest frequencies of the 2-D DCT-II, separably: along y first, then along x.
        Span<double> partial = stackalloc double[8 * Size];
        partial.Clear();
        for (var u = 0; u < 8; u++)
        {
            var p = partial.Slice(u * Size, Size);
            for (var y = 0; y < Size; y++)
            {
                var c = Cosines[(u * Size) + y];
                var r = small.Slice(y * Size, Size);
                for (var x = 0; x < Size; x++) p[x] += r[x] * c;
            }
        }
        Span<double> coefficients = stackalloc double[64];
        for (var u = 0; u < 8; u++)
        {
            var p = partial.Slice(u * Size, Size);
            for (var v = 0; v < 8; v++)
            {
                var c = Cosines.AsSpan(v * Size, Size);
                double s = 0;
                for (var x = 0; x < Size; x++) s += p[x] * c[x];
                coefficients[(u * 8) + v] = s;
            }
        }
        Span<double> ac = stackalloc double[63];
        coefficients[1..].CopyTo(ac);
        ac.Sort();
        var median = (ac[31] + ac[32]) / 2;
        ulong hash = 0;
        for (var i = 1; i < 64; i++)
        {
            if (coefficients[i] > median) hash |= 1UL << i;
        }
        return hash;
    }

    public static int Distance(ulong a, ulong b) => BitOperations.PopCount(a ^ b);

    /// <summary>cos((2x + 1)uπ / 64) at [u * 32 + x], u &lt; 8, x &lt; 32.</summary>
    private static double[] BuildCosines()
    {
        var c = new double[8 * Size];
        for (var u = 0; u < 8; u++)
        {
            for (var x = 0; x < Size; x++)
            {
                c[(u * Size) + x] = Math.Cos((2 * x + 1) * u * Math.PI / (2 * Size));
            }
        }
        return c;
    }
}
