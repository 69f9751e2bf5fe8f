using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vigil.Bench.Load;

/// <summary>What a worker process is asked to run: a set of exam streams and their schedule.</summary>
internal sealed class StreamSpec
{
    public string Name { get; set; } = "";
    /// <summary>"open-loop": heartbeats and saves at fixed intervals per stream, latency from the intended send time.
    /// "saturate": each stream keeps <see cref="Depth"/> messages of <see cref="Kind"/> in flight (the message-rate ceiling).</summary>
    public string Mode { get; set; } = "open-loop";
    /// <summary>For saturate: "heartbeat" or "save".</summary>
    public string Kind { get; set; } = "save";
    public int Depth { get; set; } = 1;
    public List<StreamTarget> Streams { get; set; } = [];
    /// <summary>True: each stream on its own HTTP/2 connection (a learner). False: streams share <see cref="SharedConnections"/> connections (as the gateway reaches a service).</summary>
    public bool ConnectionPerStream { get; set; }
    public int SharedConnections { get; set; } = 4;
    /// <summary>Loopback source addresses the connections are spread over (127.0.0.x).</summary>
    public List<string> LocalAddresses { get; set; } = ["127.0.0.1"];
    public double HeartbeatSeconds { get; set; } = 5;
    public double SaveSeconds { get; set; } = 30;
    public double WarmupSeconds { get; set; } = 1;
    public double DurationSeconds { get; set; } = 10;
    public bool FinalCheck { get; set; }
    public List<string> QuestionIds { get; set; } = [];
    public int OpenConcurrency { get; set; } = 64;
    /// <summary>A lost stream is resumed (reconnect with backoff, resend what was not acknowledged) instead of counting as dropped.</summary>
    public bool Resume { get; set; }
    /// <summary>
    /// With <see cref="Resume"/>: after the hold, how long the worker still waits for the learners that are reconnecting
    /// (their schedule has ended; their resume goes on) before it counts the rest as never resumed. The storm measures the
    /// time until every learner is back, which on a loaded box may be longer than the hold.
    /// </summary>
    public double ResumeGraceSeconds { get; set; }
}

/// <summary>One stream: where, as whom, which session.</summary>
internal sealed class StreamTarget
{
    public string Address { get; set; } = "";
    public string Token { get; set; } = "";
    public string SessionId { get; set; } = "";
}

/// <summary>What a worker reports.</summary>
internal sealed class WorkerResult
{
    public int Streams { get; set; }
    public int Opened { get; set; }
    public int OpenFailed { get; set; }
    public int Dropped { get; set; }
    public long HeartbeatsSent { get; set; }
    public long HeartbeatReplies { get; set; }
    public long SavesSent { get; set; }
    public long SaveAcks { get; set; }
    public long SaveRejected { get; set; }
    public long Warnings { get; set; }
    /// <summary>Saves and heartbeats the server answered with RetryLater (saves were sent again).</summary>
    public long SaveRetries { get; set; }
    public long HeartbeatRetries { get; set; }
    /// <summary>Heartbeats sent later than the exam's interval because the server widened the pace, and the widest pace seen.</summary>
    public long PacedHeartbeats { get; set; }
    public long PaceMaxMs { get; set; }
    /// <summary>Replies received inside the measurement window.</summary>
    public long HeartbeatRepliesInWindow { get; set; }
    public long SaveAcksInWindow { get; set; }
    /// <summary>Messages meant to be sent in the window that got no reply before the end (counted as lost).</summary>
    public long Unanswered { get; set; }
    public double WindowSeconds { get; set; }
    /// <summary>When the measured window started (Stopwatch ticks: the machine's monotonic clock, shared by processes).</summary>
    public long WindowStartTicks { get; set; }
    public double OpenSeconds { get; set; }
    public List<long[]>? SaveLatency { get; set; }
    public List<long[]>? HeartbeatLatency { get; set; }
    /// <summary>Per second of the window (by intended send time): [messages, worst latency in µs].</summary>
    public List<long[]>? SaveTimeline { get; set; }
    public List<long[]>? HeartbeatTimeline { get; set; }
    public int FinalChecksOk { get; set; }
    public int FinalChecksFailed { get; set; }
    public List<string> SubmittedSessions { get; set; } = [];
    public List<string> Errors { get; set; } = [];
    public int PeakOpenFiles { get; set; }
    /// <summary>With Resume: streams lost, resumed, still reconnecting at the end, and the reconnect attempts.</summary>
    public long StreamsLost { get; set; }
    public long Resumed { get; set; }
    public int NeverResumed { get; set; }
    public long ReconnectAttempts { get; set; }
    /// <summary>Saves this client saw acknowledged that the server did not have when the stream resumed (must be 0).</summary>
    public long LostAcknowledged { get; set; }
    /// <summary>Saves sent before the loss whose acknowledgement was lost, found stored on resume.</summary>
    public long StoredBeforeLoss { get; set; }
    /// <summary>The first loss and the last resume (Stopwatch ticks, shared by processes), and loss-to-resume latency.</summary>
    public long FirstLossTicks { get; set; }
    public long LastResumeTicks { get; set; }
    public List<long[]>? ResumeLatency { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = false, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StreamSpec))]
[JsonSerializable(typeof(WorkerResult))]
internal sealed partial class SpecJson : JsonSerializerContext;

internal static class SpecIo
{
    public static string Write(StreamSpec spec) => JsonSerializer.Serialize(spec, SpecJson.Default.StreamSpec);
    public static StreamSpec ReadSpec(string json) => JsonSerializer.Deserialize(json, SpecJson.Default.StreamSpec)!;
    public static string Write(WorkerResult r) => JsonSerializer.Serialize(r, SpecJson.Default.WorkerResult);
    public static WorkerResult ReadResult(string json) => JsonSerializer.Deserialize(json, SpecJson.Default.WorkerResult)!;
}
