namespace Vigil.Bench.Measure;

/// <summary>Shared extremes kept from many tasks with a compare-and-swap loop: a maximum is only raised, a minimum only lowered.</summary>
internal static class Atomic
{
    public static void Max(ref long target, long value) => Move(ref target, value, raise: true);

    public static void Min(ref long target, long value) => Move(ref target, value, raise: false);

    private static void Move(ref long target, long value, bool raise)
    {
        var seen = Volatile.Read(ref target);
        while (raise ? value > seen : value < seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen) return;
            seen = was;
        }
    }
}
