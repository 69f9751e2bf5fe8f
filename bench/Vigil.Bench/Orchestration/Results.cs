using System.Text.Json.Serialization;
using Vigil.Bench.Measure;

namespace Vigil.Bench.Orchestration;

/// <summary>One scenario in one round.</summary>
internal sealed class ScenarioResult
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("round")] public int Round { get; set; }
    [JsonPropertyName("what")] public string What { get; set; } = "";
    [JsonPropertyName("streams")] public int Streams { get; set; }
    [JsonPropertyName("streams_failed")] public int StreamsFailed { get; set; }
    [JsonPropertyName("streams_dropped")] public int StreamsDropped { get; set; }
    [JsonPropertyName("seconds")] public double Seconds { get; set; }
    [JsonPropertyName("ops")] public long Ops { get; set; }
    /// <summary>Operations completed in the whole scenario: warm-up, window and the replies that came after it.</summary>
    [JsonPropertyName("done")] public long Done { get; set; }
    [JsonPropertyName("ops_per_second")] public double OpsPerSecond { get; set; }
    [JsonPropertyName("heartbeats_per_second")] public double HeartbeatsPerSecond { get; set; }
    [JsonPropertyName("saves_per_second")] public double SavesPerSecond { get; set; }
    [JsonPropertyName("latency")] public LatencySummary? Latency { get; set; }
    [JsonPropertyName("heartbeat_latency")] public LatencySummary? HeartbeatLatency { get; set; }
    [JsonPropertyName("save_timeline")] public List<TimelineSecond>? SaveTimeline { get; set; }
    [JsonPropertyName("heartbeat_timeline")] public List<TimelineSecond>? HeartbeatTimeline { get; set; }
    [JsonPropertyName("server_timeline")] public List<ServerSecond>? ServerTimeline { get; set; }
    [JsonPropertyName("window_start_ticks")] public long WindowStartTicks { get; set; }
    [JsonPropertyName("unanswered")] public long Unanswered { get; set; }
    [JsonPropertyName("errors")] public long Errors { get; set; }
    [JsonPropertyName("error_samples")] public List<string> ErrorSamples { get; set; } = [];
    [JsonPropertyName("server_cpu_seconds")] public Dictionary<string, double> ServerCpuSeconds { get; set; } = [];
    [JsonPropertyName("server_rss_mb")] public Dictionary<string, double> ServerRssMb { get; set; } = [];
    [JsonPropertyName("steal_percent")] public double StealPercent { get; set; }
    [JsonPropertyName("machine_busy_percent")] public double MachineBusyPercent { get; set; }
    [JsonPropertyName("extra")] public Dictionary<string, double> Extra { get; set; } = [];
}

/// <summary>A ratio's median and spread over the rounds.</summary>
internal sealed record RatioSummary(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("median")] double Median,
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("max")] double Max,
    [property: JsonPropertyName("rounds")] int Rounds,
    [property: JsonPropertyName("values")] List<double> Values);

/// <summary>A target of the issue and what this run says about it.</summary>
internal sealed record TargetVerdict(
    [property: JsonPropertyName("target")] string Target,
    [property: JsonPropertyName("measured")] string Measured,
    [property: JsonPropertyName("verdict")] string Verdict);

/// <summary>One size of the ramp: whether the exam day held at that size, and the scenario behind the verdict.</summary>
internal sealed record RampStep(
    [property: JsonPropertyName("learners")] int Learners,
    [property: JsonPropertyName("held")] bool Held,
    [property: JsonPropertyName("why_not")] string? WhyNot,
    [property: JsonPropertyName("result")] ScenarioResult Result);

/// <summary>A session runtime variant held at the exam day's size.</summary>
internal sealed record VariantResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("environment")] Dictionary<string, string> Environment,
    [property: JsonPropertyName("result")] ScenarioResult Result);

/// <summary>The whole run.</summary>
internal sealed class BenchReport
{
    [JsonPropertyName("command")] public string Command { get; set; } = "";
    [JsonPropertyName("fingerprint")] public Fingerprint Fingerprint { get; set; } = new();
    [JsonPropertyName("what_it_did")] public List<string> WhatItDid { get; set; } = [];
    [JsonPropertyName("setup")] public Dictionary<string, object> Setup { get; set; } = [];
    [JsonPropertyName("rounds")] public List<ScenarioResult> Rounds { get; set; } = [];
    [JsonPropertyName("ramp")] public List<RampStep> Ramp { get; set; } = [];
    [JsonPropertyName("ramp_largest_held")] public int? RampLargestHeld { get; set; }
    [JsonPropertyName("session_variants")] public List<VariantResult> Variants { get; set; } = [];
    [JsonPropertyName("exam_day")] public ScenarioResult? ExamDay { get; set; }
    [JsonPropertyName("board_to_dashboard")] public ScenarioResult? Board { get; set; }
    [JsonPropertyName("medians")] public Dictionary<string, double> Medians { get; set; } = [];
    [JsonPropertyName("ratios")] public List<RatioSummary> Ratios { get; set; } = [];
    [JsonPropertyName("targets")] public List<TargetVerdict> Targets { get; set; } = [];
    [JsonPropertyName("problems")] public List<string> Problems { get; set; } = [];
}

[JsonSourceGenerationOptions(WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(BenchReport))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(string))]
internal sealed partial class ReportJson : JsonSerializerContext;
