using Vigil.Session.Sessions;

namespace Vigil.Session.Tests.Sessions;

/// <summary>Which heartbeats are written, as a table: the first, a changed signal, or the last written one old enough.</summary>
public sealed class HeartbeatWritesTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(15);

    // Seconds since the last written (null: none), its signals, this heartbeat's signals → written?
    public static readonly TheoryData<double?, int, int, bool> Table = new()
    {
        { null, 0, 0, true },     // the stream's first
        { 0, 0, 0, false },       // same instant, nothing changed
        { 5, 0, 0, false },       // a heartbeat later, nothing changed: kept in memory
        { 14.999, 0, 0, false },
        { 15, 0, 0, true },       // the last written is a fraction of the gap old: written
        { 40, 0, 0, true },
        { 5, 0, 2, true },        // camera off: written at once (the incident opens now)
        { 5, 2, 0, true },        // camera back: written at once (the incident closes now)
        { 5, 2 | 16, 2 | 16, false },
        { -1, 0, 0, true },       // a clock that went back: written
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void A_heartbeat_is_written_as_the_table_says(double? sinceWritten, int writtenSignals, int signals, bool written)
    {
        var now = T0.AddSeconds(60);
        DateTimeOffset? writtenAt = sinceWritten is { } s ? now.AddSeconds(-s) : null;
        Assert.Equal(written, HeartbeatWrites.MustWrite(now, writtenAt, writtenSignals, signals, Every));
    }

    [Fact]
    public void Every_signal_has_its_own_bit_and_a_zero_fraction_writes_every_heartbeat()
    {
        var bits = new[]
        {
            HeartbeatWrites.Signals(true, false, false, false, false), HeartbeatWrites.Signals(false, true, false, false, false),
            HeartbeatWrites.Signals(false, false, true, false, false), HeartbeatWrites.Signals(false, false, false, true, false),
            HeartbeatWrites.Signals(false, false, false, false, true),
        };
        Assert.Equal(5, bits.Distinct().Count());
        Assert.All(bits, b => Assert.Equal(1, System.Numerics.BitOperations.PopCount((uint)b)));
        Assert.Equal(0, HeartbeatWrites.Signals(false, false, false, false, false));
        Assert.True(HeartbeatWrites.MustWrite(T0, T0, 0, 0, TimeSpan.Zero));
    }
}
