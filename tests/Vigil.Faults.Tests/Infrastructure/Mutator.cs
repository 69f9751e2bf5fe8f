namespace Vigil.Faults.Tests.Infrastructure;

/// <summary>
/// A small deterministic mutation engine (fixed seed, so a run is reproducible): bit flips, interesting bytes,
/// insertions, deletions, truncations, duplicated ranges, huge varints (protobuf length bombs) and pure noise.
/// It is not coverage-guided: it is a bounded, seeded mutation fuzzer over real parsers.
/// </summary>
public sealed class Mutator(int seed)
{
    private static readonly byte[] Interesting = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x0A, 0x12, 0x1A, 0x22];
    private readonly Random _random = new(seed);

    /// <summary>The random source (for the caller's own choices).</summary>
    public Random Random => _random;

    /// <summary>One to four mutations of <paramref name="input"/>; <paramref name="focus"/> limits where they land (e.g. a header).</summary>
    public byte[] Mutate(byte[] input, int focus = int.MaxValue)
    {
        var data = new List<byte>(input);
        var rounds = 1 + _random.Next(4);
        for (var r = 0; r < rounds; r++)
        {
            var span = Math.Max(1, Math.Min(data.Count, focus));
            var at = data.Count == 0 ? 0 : _random.Next(span);
            switch (_random.Next(9))
            {
                case 0 when data.Count > 0:
                    data[at] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1 when data.Count > 0:
                    data[at] = Interesting[_random.Next(Interesting.Length)];
                    break;
                case 2:
                    data.InsertRange(at, Noise(1 + _random.Next(16)));
                    break;
                case 3 when data.Count > 1:
                    data.RemoveRange(at, Math.Min(data.Count - at, 1 + _random.Next(16)));
                    break;
                case 4 when data.Count > 1:
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 5 when data.Count > 1:
                    {
                        var len = Math.Min(data.Count - at, 1 + _random.Next(64));
                        data.InsertRange(at, data.GetRange(at, len));
                        break;
                    }
                case 6:
                    // A 10-byte varint: a length or tag that claims far more than there is.
                    data.InsertRange(at, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
                    break;
                case 7:
                    // A length-delimited field claiming 2 GiB.
                    data.InsertRange(at, [(byte)((1 + _random.Next(15)) << 3 | 2), 0xFF, 0xFF, 0xFF, 0xFF, 0x07]);
                    break;
                default:
                    if (_random.Next(8) == 0) return Noise(_random.Next(256));
                    if (data.Count > 0) data[at] = (byte)_random.Next(256);
                    break;
            }
        }
        return [.. data];
    }

    private byte[] Noise(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }
}
