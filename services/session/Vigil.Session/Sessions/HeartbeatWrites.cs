namespace Vigil.Session.Sessions;

/// <summary>
/// Which heartbeats cost a durable Redis write. The replica holding the stream keeps the last-seen time in memory and
/// writes a heartbeat only when it must: the stream's first, one whose rule signals differ from the last written
/// (incidents open and close at once), or when the last written is <c>every</c> old (a fraction of the exam's gap,
/// <c>Session:HeartbeatWriteFraction</c>). The written heartbeat records that unwritten ones may follow it for up to
/// <c>every</c> (<c>hb_slack_ms</c>), which the gap check of any replica adds to the gap; the stream's end writes its
/// true last heartbeat with no slack. So a learner who keeps heartbeating is never counted disconnected, and a silent
/// one is: at the gap after its last heartbeat once its stream ended, at most <c>every</c> later while it stays open.
/// </summary>
internal static class HeartbeatWrites
{
    /// <summary>The rule signals of a heartbeat as bits (1 headphones not allowed, 2 camera off, 4 screen share stopped, 8 focus lost, 16 microphone off).</summary>
    public static int Signals(bool headphones, bool cameraOff, bool screenShareOff, bool focusLost, bool microphoneOff) =>
        (headphones ? 1 : 0) | (cameraOff ? 2 : 0) | (screenShareOff ? 4 : 0) | (focusLost ? 8 : 0) | (microphoneOff ? 16 : 0);

    /// <summary>Whether the heartbeat at <paramref name="now"/> must be written.</summary>
    /// <param name="now">The heartbeat's time.</param>
    /// <param name="writtenAt">When the stream last wrote one (null: never, or the session was found not running).</param>
    /// <param name="writtenSignals">The signals that one carried.</param>
    /// <param name="signals">This heartbeat's signals.</param>
    /// <param name="every">How old the last written may grow before the next is written.</param>
    public static bool MustWrite(DateTimeOffset now, DateTimeOffset? writtenAt, int writtenSignals, int signals, TimeSpan every) =>
        writtenAt is not { } last || signals != writtenSignals || now - last >= every || now < last;
}
