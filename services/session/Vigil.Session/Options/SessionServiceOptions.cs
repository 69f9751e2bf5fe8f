using System.ComponentModel.DataAnnotations;

namespace Vigil.Session.Options;

/// <summary>The session service's settings, bound from the "Session" section.</summary>
internal sealed class SessionServiceOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Session";

    /// <summary>How often any replica sweeps the deadlines and the heartbeat gaps.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the outbox relay looks for pending events.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan OutboxPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a replica holds a session's outbox while relaying it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan OutboxLeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many sessions' outboxes one replica relays at once. Each event costs a few durable Redis round trips
    /// and a broker confirm; relaying sessions side by side lets Redis group their fsyncs (events of one
    /// session stay in order).
    /// </summary>
    [Range(1, 1024)]
    public int OutboxRelayConcurrency { get; set; } = 32;

    /// <summary>How long an announced but empty outbox stays in the pending index before it is dropped.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan OutboxAnnounceGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a publish may take before the relay gives up and retries later.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a client waits before reconnecting when this replica drains.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Timeout of calls to the identity service.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan IdentityCallTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest short-text answer accepted, in characters.</summary>
    [Range(1, 100_000)]
    public int MaxTextAnswerLength { get; set; } = 4000;

    /// <summary>
    /// How far past the last acknowledged save a new save's sequence may jump. Sequences increase across the session
    /// (a client counts its saves); a jump of millions is a broken client, and int64-sized values would lose precision
    /// in Redis's Lua numbers, so they are refused rather than stored.
    /// </summary>
    [Range(1, 1_000_000_000)]
    public long MaxSequenceAhead { get; set; } = 100_000;

    /// <summary>
    /// How many exam streams one replica holds open at most: past it, a new stream is refused at once with
    /// UNAVAILABLE and a retry hint (<see cref="OverloadRetryAfter"/>) while the open ones keep being served.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxOpenStreams { get; set; } = 30_000;

    /// <summary>
    /// The store-call budget of the exam streams of one replica: how many of their Redis calls may be in flight at
    /// once before the replica counts as overloaded. Overloaded, it refuses new streams (as past
    /// <see cref="MaxOpenStreams"/>) and widens the heartbeat pace; the open streams go on.
    /// </summary>
    [Range(1, 1_000_000)]
    public int StoreCallBudget { get; set; } = 1_000;

    /// <summary>The retry hint of a new stream refused because this replica is overloaded (clients add jitter).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan OverloadRetryAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The retry hint of one stream message whose store call timed out or failed in a way that passes (a failover, a
    /// resharding, replicas not confirming): the message is answered with RetryLater and the stream stays open.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan StoreRetryAfter { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The load (<see cref="Sessions.ExamLoad.Pressure"/>: 1 at the store-call budget or the open-stream limit) above
    /// which the heartbeat pace widens past the exam's interval (<see cref="Sessions.HeartbeatPace"/>).
    /// </summary>
    [Range(0.0, 0.99)]
    public double HeartbeatPaceWidenFrom { get; set; } = 0.5;

    /// <summary>
    /// The widest heartbeat pace, as a fraction of the exam's gap (<c>connection_lost_after</c>): at 0.5 a learner who
    /// follows the pace may be late by half the gap and is still not counted disconnected.
    /// </summary>
    [Range(0.05, 0.9)]
    public double HeartbeatPaceMaxGapFraction { get; set; } = 0.5;

    /// <summary>
    /// How often a stream writes a heartbeat that changes no signal, as a fraction of the exam's gap
    /// (<c>connection_lost_after</c>): the others stay in memory (<see cref="Sessions.HeartbeatWrites"/>). A silent learner
    /// whose stream stays open is counted disconnected at most this fraction of the gap late; once the stream ends, at
    /// the gap. 0 writes every heartbeat.
    /// </summary>
    [Range(0.0, 0.9)]
    public double HeartbeatWriteFraction { get; set; } = 0.5;

    /// <summary>
    /// How long after a session's end its learner may still report a technical problem (ReportProblem); during the
    /// exam a report is always accepted.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan ProblemReportWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The longest problem description accepted, in characters.</summary>
    [Range(1, 20_000)]
    public int MaxProblemDescriptionLength { get; set; } = 2000;
}
