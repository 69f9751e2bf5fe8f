using Vigil.Session.Sessions;

namespace Vigil.Session.Tests.Sessions;

/// <summary>
/// The pacing rule as a table (the defaults: widen above a pressure of 0.5, the widest half the gap), and its bounds
/// over every pressure: never narrower than the exam's interval, never wider than half the gap (where that is wider
/// than the interval), wider as the load grows and narrower as it falls.
/// </summary>
public sealed class HeartbeatPaceTests
{
    private const double WidenFrom = 0.5;
    private const double MaxGapFraction = 0.5;

    // Interval s, gap s, pressure → the pace (ms).
    public static readonly TheoryData<double, double, double, double> Table = new()
    {
        { 5, 30, 0, 5_000 },        // idle: the exam's interval
        { 5, 30, 0.5, 5_000 },      // up to the threshold: still the exam's interval
        { 5, 30, 0.75, 10_000 },    // halfway from the threshold to the budget: halfway to the widest
        { 5, 30, 1, 15_000 },       // at the budget: the widest, half the 30 s gap
        { 5, 30, 4, 15_000 },       // past it: never wider
        { 5, 60, 1, 30_000 },       // the widest follows the exam's gap
        { 20, 30, 1, 20_000 },      // an exam whose interval is already past half the gap: kept, never narrowed
        { 5, 30, double.NaN, 5_000 },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void The_pace_follows_the_table(double intervalSeconds, double gapSeconds, double pressure, double expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs),
            HeartbeatPace.Next(TimeSpan.FromSeconds(intervalSeconds), TimeSpan.FromSeconds(gapSeconds), pressure, WidenFrom, MaxGapFraction));

    [Theory]
    [InlineData(5, 30)]
    [InlineData(1, 10)]
    [InlineData(0.1, 0.3)]
    [InlineData(60, 300)]
    public void The_pace_stays_within_the_interval_and_half_the_gap_and_moves_with_the_load(double intervalSeconds, double gapSeconds)
    {
        var interval = TimeSpan.FromSeconds(intervalSeconds);
        var gap = TimeSpan.FromSeconds(gapSeconds);
        var previous = TimeSpan.Zero;
        for (var pressure = 0.0; pressure <= 3; pressure += 0.01)
        {
            var pace = HeartbeatPace.Next(interval, gap, pressure, WidenFrom, MaxGapFraction);
            Assert.InRange(pace, interval, gap * MaxGapFraction);
            Assert.True(pace < gap, "a learner following the pace would be counted disconnected");
            Assert.True(pace >= previous, $"the pace narrowed as the load grew, at {pressure:0.00}");
            previous = pace;
        }
        // And back: as the load falls the pace narrows to the exam's interval.
        Assert.Equal(interval, HeartbeatPace.Next(interval, gap, 0.2, WidenFrom, MaxGapFraction));
    }
}
