using System.Globalization;
using System.Text;

namespace Vigil.Bench.Orchestration;

/// <summary>Medians over rounds, per-round ratios (median and spread), the targets, and the printed table.</summary>
internal static class Analysis
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var s = values.OrderBy(v => v).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    private static IEnumerable<ScenarioResult> Of(BenchReport r, string name) => r.Rounds.Where(x => x.Name == name && x.Ops > 0);

    private static double MedianRate(BenchReport r, string name) => Median([.. Of(r, name).Select(x => x.OpsPerSecond)]);

    private static double MedianP99(BenchReport r, string name) => Median([.. Of(r, name).Where(x => x.Latency is not null).Select(x => x.Latency!.P99)]);

    private static double CpuMsPer1000(ScenarioResult x, string group) => x.Ops > 0 ? x.ServerCpuSeconds.GetValueOrDefault(group) * 1e6 / x.Ops : double.NaN;

    public static void Summarize(BenchOptions o, BenchReport report)
    {
        foreach (var name in report.Rounds.Select(x => x.Name).Distinct())
        {
            report.Medians[name + ".ops_per_second"] = Math.Round(MedianRate(report, name), 1);
            var p99 = MedianP99(report, name);
            if (!double.IsNaN(p99)) report.Medians[name + ".p99_ms"] = Math.Round(p99, 3);
        }
        var hbCpu = Median([.. Of(report, "session-direct-hb").Select(x => CpuMsPer1000(x, "session"))]);
        var hbCpuRedis = Median([.. Of(report, "session-direct-hb").Select(x => CpuMsPer1000(x, "redis"))]);
        if (!double.IsNaN(hbCpu)) report.Medians["session_cpu_ms_per_1000_heartbeats"] = Math.Round(hbCpu, 2);
        if (!double.IsNaN(hbCpuRedis)) report.Medians["redis_cpu_ms_per_1000_heartbeats"] = Math.Round(hbCpuRedis, 2);
        var echoCpu = Median([.. Of(report, "echo-direct-hb").Select(x => CpuMsPer1000(x, "echo"))]);
        if (!double.IsNaN(echoCpu)) report.Medians["echo_cpu_ms_per_1000_heartbeats"] = Math.Round(echoCpu, 2);

        void Ratio(string name, string num, string den, Func<ScenarioResult, double>? value = null, bool difference = false)
        {
            value ??= x => x.OpsPerSecond;
            var values = new List<double>();
            foreach (var round in report.Rounds.Select(x => x.Round).Distinct())
            {
                var a = report.Rounds.FirstOrDefault(x => x.Round == round && x.Name == num && x.Ops > 0);
                var b = report.Rounds.FirstOrDefault(x => x.Round == round && x.Name == den && x.Ops > 0);
                if (a is null || b is null) continue;
                var (va, vb) = (value(a), value(b));
                if (double.IsNaN(va) || double.IsNaN(vb) || (!difference && vb == 0)) continue;
                values.Add(Math.Round(difference ? va - vb : va / vb, 3));
            }
            if (values.Count > 0) report.Ratios.Add(new RatioSummary(name, Median(values), values.Min(), values.Max(), values.Count, values));
        }
        Ratio("heartbeats: session direct / empty echo direct", "session-direct-hb", "echo-direct-hb");
        Ratio("saves: session direct / empty echo direct", "session-direct-save", "echo-direct-save");
        Ratio("heartbeats: session through gateway / session direct", "session-gateway-hb", "session-direct-hb");
        Ratio("saves: session through gateway / session direct", "session-gateway-save", "session-direct-save");
        Ratio("heartbeats: echo through gateway / echo direct", "echo-gateway-hb", "echo-direct-hb");
        Ratio("saves: echo through gateway / echo direct", "echo-gateway-save", "echo-direct-save");
        Ratio("saves: session direct / raw Redis writes", "session-direct-save", "redis-raw");
        Ratio($"saves: {Runner.GroupCommitBatch} per save script call / 1 per call (group commit)", $"redis-save-{Runner.GroupCommitBatch}", "redis-save-1");
        Ratio($"Redis CPU per save: {Runner.GroupCommitBatch} per call / 1 per call", $"redis-save-{Runner.GroupCommitBatch}", "redis-save-1", RedisCpuPerSave);
        Ratio($"client CPU per save: {Runner.GroupCommitBatch} per call / 1 per call", $"redis-save-{Runner.GroupCommitBatch}", "redis-save-1", x => x.Extra.GetValueOrDefault("bench_cpu_ms_per_1k_saves", double.NaN));
        Ratio("photos: identity / bare decode+re-encode", "photo-identity-direct", "photo-echo-direct");
        Ratio("save p99 added by the gateway, ms (difference)", "session-gateway-save-latency", "session-direct-save-latency", x => x.Latency?.P99 ?? double.NaN, difference: true);
        Ratio("echo save p99 added by the gateway, ms (difference)", "echo-gateway-save-latency", "echo-direct-save-latency", x => x.Latency?.P99 ?? double.NaN, difference: true);
        var rabbit = MedianRate(report, "rabbitmq-raw");
        if (report.Board is { Ops: > 0 } board && !double.IsNaN(rabbit) && rabbit > 0)
        {
            var rabbits = Of(report, "rabbitmq-raw").Select(x => board.OpsPerSecond / x.OpsPerSecond).ToList();
            report.Ratios.Add(new RatioSummary("board decisions to dashboard / raw RabbitMQ publish-confirm-consume", Math.Round(board.OpsPerSecond / rabbit, 3), Math.Round(rabbits.Min(), 3), Math.Round(rabbits.Max(), 3), rabbits.Count, [.. rabbits.Select(v => Math.Round(v, 3))]));
        }
        Targets(o, report);
    }

    /// <summary>Redis's CPU per 1,000 operations of the window (NaN when unknown).</summary>
    private static double RedisCpuPerSave(ScenarioResult r) =>
        r.Ops > 0 && r.ServerCpuSeconds.TryGetValue("redis", out var cpu) ? cpu * 1e6 / r.Ops : double.NaN;

    private static RatioSummary? R(BenchReport r, string prefix) => r.Ratios.FirstOrDefault(x => x.Name.StartsWith(prefix, StringComparison.Ordinal));

    private static string F(double v, string fmt = "F1") => double.IsNaN(v) ? "n/a" : v.ToString(fmt, Inv);

    /// <summary>
    /// Whether an exam day of <paramref name="learners"/> held: every stream opened, none dropped, every message
    /// answered, save p99 under 50 ms (the full-size target). The reason when not.
    /// </summary>
    public static (bool Held, string? WhyNot) Held(ScenarioResult r, int learners)
    {
        var why = new List<string>();
        if (r.Streams < learners || r.StreamsFailed > 0) why.Add($"{r.Streams} of {learners} streams opened ({r.StreamsFailed} failed)");
        if (r.StreamsDropped > 0) why.Add($"{r.StreamsDropped} dropped");
        if (r.Unanswered > 0) why.Add($"{r.Unanswered} unanswered");
        if (r.Latency is not { } l) why.Add("no save answered");
        else if (!(l.P99 < 50)) why.Add($"save p99 {l.P99:F1} ms");
        return (why.Count == 0, why.Count == 0 ? null : string.Join(", ", why));
    }

    private static void Targets(BenchOptions o, BenchReport report)
    {
        var t = report.Targets;
        string Verdict(bool? met, bool fullSize) => met is null ? "NOT MEASURED" : !fullSize ? (met.Value ? "met at this size (not full size)" : "MISSED at this size (not full size)") : met.Value ? "MET" : "MISSED";

        var exam = report.ExamDay;
        if (exam is null) t.Add(new("20,000 streams held 10 min, none dropped, save p99 < 50 ms", "exam day did not run", "NOT MEASURED"));
        else
        {
            var p99 = exam.Latency?.P99 ?? double.NaN;
            var ok = exam.StreamsDropped == 0 && exam.StreamsFailed == 0 && exam.Unanswered == 0 && p99 < 50;
            var full = exam.Streams >= 20000 && exam.Seconds >= 600;
            t.Add(new("20,000 streams held 10 min, none dropped, save p99 < 50 ms",
                $"{exam.Streams} streams for {exam.Seconds} s: {exam.StreamsFailed} failed to open, {exam.StreamsDropped} dropped, {exam.Unanswered} unanswered, save p99 {F(p99, "F2")} ms", Verdict(ok, full)));
            var kb = exam.Extra.GetValueOrDefault("session_kb_per_stream_delta", double.NaN);
            t.Add(new("session memory < 30 KB per open stream", $"{F(kb, "F1")} KB/stream (RSS growth over {exam.Streams} streams; total RSS/N {F(exam.Extra.GetValueOrDefault("session_kb_per_stream_total", double.NaN), "F1")} KB)",
                Verdict(double.IsNaN(kb) ? null : kb < 30, exam.Streams >= 20000)));
        }
        if (exam is not null && exam.Extra.ContainsKey("storm_session_restart_seconds"))
        {
            var lost = exam.Extra.GetValueOrDefault("acknowledged_saves_lost");
            var never = exam.Extra.GetValueOrDefault("streams_never_resumed");
            t.Add(new("reconnect storm: 0 acknowledged saves lost, every learner resumed",
                $"{lost} acknowledged saves lost; {exam.Extra.GetValueOrDefault("streams_resumed")} of {exam.Extra.GetValueOrDefault("streams_lost")} lost streams resumed, {never} never; " +
                $"last resume {F(exam.Extra.GetValueOrDefault("storm_kill_to_last_resume_seconds", double.NaN), "F1")} s after the SIGKILL (session back after {F(exam.Extra.GetValueOrDefault("storm_session_restart_seconds"), "F1")} s)",
                Verdict(lost == 0 && never == 0, exam.Streams >= 20000)));
        }
        if (report.Ramp.Count > 0)
        {
            t.Add(new("ramp: the largest exam day held on this box", report.RampLargestHeld is { } held ? $"{held} learners" + (report.Ramp.FirstOrDefault(x => !x.Held) is { } next ? $"; {next.Learners} not held ({next.WhyNot})" : "; every step held") : "none held",
                report.RampLargestHeld is null ? "MISSED" : "MEASURED"));
        }
        var saves = MedianRate(report, "session-direct-save");
        var saveP99 = MedianP99(report, "session-direct-save-latency");
        var saveRatio = R(report, "saves: session direct / empty");
        t.Add(new("durable saves >= 5,000/s", $"{F(saves, "F0")} saves/s (median of rounds, {o.SaturateStreams} streams x {o.SaturateDepth} in flight)", Verdict(double.IsNaN(saves) ? null : saves >= 5000, true)));
        t.Add(new("save p99 < 25 ms at 5,000 saves/s", $"p99 {F(saveP99, "F2")} ms at {o.SaveRate} saves/s offered (open loop, median of rounds)",
            Verdict(double.IsNaN(saveP99) ? null : saveP99 < 25, o.SaveRate >= 5000)));
        t.Add(new("saves >= 70% of the empty-echo ceiling", saveRatio is null ? "n/a" : $"{saveRatio.Median:P0} (rounds {saveRatio.Min:P0}..{saveRatio.Max:P0})", Verdict(saveRatio is null ? null : saveRatio.Median >= 0.7, true)));
        var hbRatio = R(report, "heartbeats: session direct");
        t.Add(new("heartbeats >= 50% of the empty-echo ceiling", hbRatio is null ? "n/a" : $"{hbRatio.Median:P0} (rounds {hbRatio.Min:P0}..{hbRatio.Max:P0}), {F(MedianRate(report, "session-direct-hb"), "F0")} hb/s vs {F(MedianRate(report, "echo-direct-hb"), "F0")}", Verdict(hbRatio is null ? null : hbRatio.Median >= 0.5, true)));
        var gwHb = R(report, "heartbeats: session through");
        var gwSave = R(report, "saves: session through");
        var gwOk = gwHb is null || gwSave is null ? (bool?)null : gwHb.Median >= 0.7 && gwSave.Median >= 0.7;
        t.Add(new("through the gateway >= 70% of direct (streams)", $"heartbeats {(gwHb is null ? "n/a" : gwHb.Median.ToString("P0", Inv))}, saves {(gwSave is null ? "n/a" : gwSave.Median.ToString("P0", Inv))}", Verdict(gwOk, true)));
        var added = R(report, "save p99 added by the gateway");
        t.Add(new("gateway adds <= 2 ms to p99", added is null ? "n/a" : $"{added.Median:F2} ms (rounds {added.Min:F2}..{added.Max:F2})", Verdict(added is null ? null : added.Median <= 2, o.SaveRate >= 5000)));
        var board = report.Board;
        var boardRatio = R(report, "board decisions");
        t.Add(new("board decision to dashboard >= 2,000/s", board is null ? "n/a" : $"{board.OpsPerSecond:F0}/s over {board.Ops} decisions, p99 {F(board.Latency?.P99 ?? double.NaN, "F1")} ms", Verdict(board is null || board.Ops == 0 ? null : board.OpsPerSecond >= 2000, board is not null && board.Ops >= 2000)));
        t.Add(new("board decision to dashboard >= 30% of raw RabbitMQ", boardRatio is null ? "n/a" : $"{boardRatio.Median:P0} of {F(MedianRate(report, "rabbitmq-raw"), "F0")} msg/s", Verdict(boardRatio is null ? null : boardRatio.Median >= 0.3, board is not null && board.Ops >= 2000)));
    }

    public static string Table(BenchReport report)
    {
        var sb = new StringBuilder();
        var f = report.Fingerprint;
        sb.AppendLine(CultureInfo.InvariantCulture, $"Machine: {f.Cores} cores, {f.CpuModel}, {f.MemoryGiB} GiB, kernel {f.Kernel}, {f.DotNet}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"         fsync p50 {f.FsyncP50Ms} ms / p99 {f.FsyncP99Ms} ms, steal {f.StealPercent}%, busy before start {f.BusyPercentBefore}%, loadavg {f.LoadAverage}, open files {f.OpenFilesLimit}");
        sb.AppendLine("What it did:");
        foreach (var d in report.WhatItDid) sb.AppendLine("  - " + d);
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"scenario",-30} {"rate/s median",14} {"(min..max)",20} {"p50 ms",8} {"p99 ms",8} {"p99.9 ms",9} {"cpu ms/1k",10} {"gw ms/1k",9} {"steal%",7} {"errors",7}");
        foreach (var name in report.Rounds.Select(x => x.Name).Distinct().OrderBy(n => n, StringComparer.Ordinal))
        {
            var rs = report.Rounds.Where(x => x.Name == name).ToList();
            var rates = rs.Select(x => x.OpsPerSecond).ToList();
            var lat = rs.Where(x => x.Latency is not null).Select(x => x.Latency!).ToList();
            var group = name.StartsWith("session", StringComparison.Ordinal) ? "session" : name.StartsWith("echo", StringComparison.Ordinal) ? "echo" : name.StartsWith("redis", StringComparison.Ordinal) ? "redis" : name.StartsWith("rabbit", StringComparison.Ordinal) ? "rabbitmq" : name.Contains("identity", StringComparison.Ordinal) ? "identity" : "echo";
            var cpu = Median([.. rs.Where(x => x.Ops > 0).Select(x => CpuMsPer1000(x, group))]);
            var gwGroup = name.StartsWith("echo-gateway", StringComparison.Ordinal) ? "echo-gateway" : name.StartsWith("session-gateway", StringComparison.Ordinal) ? "gateways" : null;
            var gwCpu = gwGroup is null ? double.NaN : Median([.. rs.Where(x => x.Ops > 0).Select(x => CpuMsPer1000(x, gwGroup))]);
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"{name,-30} {F(Median(rates), "F0"),14} {($"({F(rates.Min(), "F0")}..{F(rates.Max(), "F0")})"),20} {F(Median([.. lat.Select(l => l.P50)]), "F2"),8} {F(Median([.. lat.Select(l => l.P99)]), "F2"),8} {F(Median([.. lat.Select(l => l.P999)]), "F2"),9} {F(cpu, "F1"),10} {(gwGroup is null ? "" : F(gwCpu, "F1")),9} {F(Median([.. rs.Select(x => x.StealPercent)]), "F1"),7} {rs.Sum(x => x.Errors),7}");
        }
        if (report.ExamDay is { } e)
        {
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"Exam day: {e.Streams} streams ({e.StreamsFailed} failed to open, {e.StreamsDropped} dropped, {e.Unanswered} unanswered) for {e.Seconds} s; {e.HeartbeatsPerSecond} heartbeats/s, {e.SavesPerSecond} saves/s");
            if (e.Latency is { } l) sb.AppendLine(CultureInfo.InvariantCulture, $"          save ack p50 {l.P50:F2} / p99 {l.P99:F2} / p99.9 {l.P999:F2} / max {l.Max:F2} ms (from the intended send time)");
            if (e.HeartbeatLatency is { } h) sb.AppendLine(CultureInfo.InvariantCulture, $"          heartbeat reply p50 {h.P50:F2} / p99 {h.P99:F2} / p99.9 {h.P999:F2} ms");
            sb.AppendLine(CultureInfo.InvariantCulture, $"          session RSS {e.Extra.GetValueOrDefault("session_rss_before_mb")} MB -> {e.Extra.GetValueOrDefault("session_rss_streams_open_mb")} MB with the streams open: {e.Extra.GetValueOrDefault("session_kb_per_stream_delta")} KB/stream; gateways {e.Extra.GetValueOrDefault("gateways_kb_per_stream_delta")} KB/stream");
            if (e.Extra.ContainsKey("storm_session_restart_seconds"))
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"          reconnect storm at {e.Extra.GetValueOrDefault("storm_at_seconds")} s: {e.Extra.GetValueOrDefault("streams_lost")} streams lost, {e.Extra.GetValueOrDefault("streams_resumed")} resumed, " +
                    $"{e.Extra.GetValueOrDefault("streams_never_resumed")} never, {e.Extra.GetValueOrDefault("acknowledged_saves_lost")} acknowledged saves lost; session back after {e.Extra.GetValueOrDefault("storm_session_restart_seconds")} s, " +
                    $"last resume {e.Extra.GetValueOrDefault("storm_kill_to_last_resume_seconds")} s after the kill; resume p50 {e.Extra.GetValueOrDefault("resume_p50_ms")} / p99 {e.Extra.GetValueOrDefault("resume_p99_ms")} ms, {e.Extra.GetValueOrDefault("reconnect_attempts")} attempts");
            }
            sb.AppendLine(CultureInfo.InvariantCulture, $"          session CPU {e.ServerCpuSeconds.GetValueOrDefault("session"):F1} s, gateways {e.ServerCpuSeconds.GetValueOrDefault("gateways"):F1} s, redis {e.ServerCpuSeconds.GetValueOrDefault("redis"):F1} s over the window; final checks {e.Extra.GetValueOrDefault("final_checks_ok")} ok, {e.Extra.GetValueOrDefault("final_checks_failed")} failed");
        }
        if (report.Variants.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("Session variants (each a fresh, warmed process holding the same learners):");
            foreach (var v in report.Variants)
            {
                var r = v.Result;
                var env = string.Join(",", v.Environment.Select(kv => kv.Key + "=" + kv.Value));
                var gc = string.Join(", ", r.Extra.Where(kv => kv.Key.StartsWith("gc_", StringComparison.Ordinal) || kv.Key.StartsWith("jit_", StringComparison.Ordinal)).Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value}")));
                var storm = r.Extra.ContainsKey("storm_session_restart_seconds") ? "; storm: " + Storm.Describe(r) : "";
                sb.AppendLine(CultureInfo.InvariantCulture, $"  {v.Name,-14} {env,-40} {r.Streams} open, {r.StreamsDropped} dropped; save p99 {F(r.Latency?.P99 ?? double.NaN, "F1")} ms, hb p99 {F(r.HeartbeatLatency?.P99 ?? double.NaN, "F1")} ms; " +
                    $"session {r.Extra.GetValueOrDefault("session_cpu_ms_per_1000_messages")} ms CPU/1000 msg, {r.Extra.GetValueOrDefault("session_kb_per_stream_delta")} KB/stream; {gc}{storm}");
            }
        }
        if (report.Ramp.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"Ramp: largest exam day held {(report.RampLargestHeld is { } n ? n.ToString(Inv) + " learners" : "none")}");
            foreach (var step in report.Ramp)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"  {step.Learners,6} learners: {(step.Held ? "held" : "NOT held (" + step.WhyNot + ")")}; save p99 {F(step.Result.Latency?.P99 ?? double.NaN, "F1")} ms, " +
                    $"{step.Result.SavesPerSecond} saves/s, {step.Result.HeartbeatsPerSecond} hb/s, session CPU {step.Result.ServerCpuSeconds.GetValueOrDefault("session"):F1} s over {step.Result.Seconds} s");
            }
        }
        if (report.Board is { } b)
        {
            sb.AppendLine(FormattableString.Invariant($"Board: {b.Ops} decisions on dashboards in {b.Seconds} s = {b.OpsPerSecond}/s") + (b.Latency is { } bl ? $"; decision to dashboard p50 {bl.P50:F1} / p99 {bl.P99:F1} ms" : ""));
        }
        if (report.Setup.Count > 0)
        {
            sb.AppendLine("Setup: " + string.Join(", ", report.Setup.Select(kv => $"{kv.Key} {Convert.ToString(kv.Value, Inv)}")));
        }
        foreach (var (k, v) in report.Medians.Where(m => m.Key.Contains("cpu", StringComparison.Ordinal))) sb.AppendLine(CultureInfo.InvariantCulture, $"{k}: {v}");
        sb.AppendLine();
        sb.AppendLine("Ratios (per round, then the median and the spread):");
        foreach (var r in report.Ratios) sb.AppendLine(CultureInfo.InvariantCulture, $"  {r.Name,-70} {r.Median,8:F3}  ({r.Min:F3}..{r.Max:F3}, {r.Rounds} rounds)");
        sb.AppendLine();
        sb.AppendLine("Targets:");
        foreach (var t in report.Targets) sb.AppendLine(CultureInfo.InvariantCulture, $"  [{t.Verdict}] {t.Target}: {t.Measured}");
        if (report.Problems.Count > 0)
        {
            sb.AppendLine("Problems:");
            foreach (var p in report.Problems) sb.AppendLine("  - " + p);
        }
        return sb.ToString();
    }
}
