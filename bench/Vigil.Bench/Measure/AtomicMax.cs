namespace Vigil.Bench.Measure;

/// <summary>Raises a shared maximum from many tasks (a compare-and-swap loop; never lowers it).</summary>
internal static class AtomicMax
{
    public static void Raise(ref long target, long value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen) return;
            seen = was;
        }
    }
}
