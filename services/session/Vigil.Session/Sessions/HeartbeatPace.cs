namespace Vigil.Session.Sessions;

/// <summary>
/// The pace the server sets (<c>HeartbeatReply.next_heartbeat_after</c>), from this replica's load
/// (<see cref="ExamLoad.Pressure"/>): the exam's heartbeat interval while the pressure is at or below
/// <c>widenFrom</c>; above it, wider in proportion, up to the widest at a pressure of 1 and past it. The widest is the
/// exam's gap (<c>connection_lost_after</c>) × <c>maxGapFraction</c>, never narrower than the exam's interval: a learner
/// who follows the pace and is late by up to the rest of the gap is never counted disconnected. Computed per reply, so
/// it narrows again as the load falls. Saves are never paced.
/// </summary>
internal static class HeartbeatPace
{
    /// <summary>The pace for one heartbeat reply (whole milliseconds).</summary>
    /// <param name="interval">The exam's heartbeat interval.</param>
    /// <param name="gap">How long without a heartbeat counts as a lost connection in this exam.</param>
    /// <param name="pressure">The replica's load: 0 idle, 1 at its budget, above 1 past it.</param>
    /// <param name="widenFrom">The pressure above which the pace widens (0 to below 1).</param>
    /// <param name="maxGapFraction">The widest pace as a fraction of the gap (above 0, below 1).</param>
    public static TimeSpan Next(TimeSpan interval, TimeSpan gap, double pressure, double widenFrom, double maxGapFraction)
    {
        var widest = gap * maxGapFraction;
        if (widest <= interval || double.IsNaN(pressure) || pressure <= widenFrom) return interval;
        var share = Math.Min(1, (pressure - widenFrom) / (1 - widenFrom));
        return TimeSpan.FromMilliseconds(Math.Round(interval.TotalMilliseconds + (widest - interval).TotalMilliseconds * share));
    }
}
