using System.Text.Json;

namespace Vigil.Bench.Orchestration;

/// <summary>
/// Checks a smoke run's JSON: the harness ran every part end to end and counted sane, non-zero things.
/// No timing is asserted. Prints one line per check and "N passed, N failed" last.
/// </summary>
internal static class SmokeCheck
{
    public static int Run(FileInfo reportFile, int expected)
    {
        var passed = 0;
        var failed = 0;
        void Check(string name, bool ok, string detail = "")
        {
            if (ok) { passed++; Console.WriteLine("check passed: " + name); }
            else { failed++; Console.WriteLine($"check FAILED: {name}{(detail.Length > 0 ? " (" + detail + ")" : "")}"); }
        }
        BenchReport? report = null;
        try { report = JsonSerializer.Deserialize(File.ReadAllText(reportFile.FullName), ReportJson.Default.BenchReport); }
        catch (Exception ex) when (ex is IOException or JsonException) { Check("the run wrote its JSON", false, ex.Message); }
        if (report is not null)
        {
            Check("the run wrote its JSON", true);
            Check("the machine's fingerprint was taken", report.Fingerprint.Cores > 0 && !double.IsNaN(report.Fingerprint.FsyncP50Ms));
            var started = report.Setup.TryGetValue("learners_started", out var s) && s is JsonElement e ? e.GetInt32() : -1;
            Check($"every learner was verified and started through the gateway ({expected})", started == expected, $"started {started}; {string.Join(" | ", report.Problems.Take(3))}");
            foreach (var name in new[]
            {
                "echo-direct-hb", "echo-gateway-hb", "session-direct-hb", "session-gateway-hb",
                "echo-direct-save", "echo-gateway-save", "session-direct-save", "session-gateway-save",
                "echo-direct-save-latency", "echo-gateway-save-latency", "session-direct-save-latency", "session-gateway-save-latency",
                "redis-raw", "rabbitmq-raw", "photo-echo-direct", "photo-identity-direct",
                "redis-replica-ack0-c1", "redis-replica-ack1-c1", "redis-replica-ack0-cn", "redis-replica-ack1-cn",
            })
            {
                var r = report.Rounds.FirstOrDefault(x => x.Name == name);
                // That it worked: operations done over the whole scenario (warm-up, window, replies after it). On a
                // loaded machine one stall longer than the smoke's short window leaves nothing inside it, which is a
                // figure for the benchmark, not a broken scenario; an error still fails it.
                Check($"scenario {name} counted operations without errors", r is { Done: > 0, Errors: 0 },
                    r is null ? "did not run" : $"{r.Done} operations done ({r.Ops} in the window), {r.Errors} errors: {string.Join(" | ", r.ErrorSamples.Take(2))}");
            }
            var lat = report.Rounds.FirstOrDefault(x => x.Name == "session-direct-save-latency");
            Check("save latency was recorded from the intended send time", lat?.Latency is { Count: > 0, P50: > 0 });
            var cpu = report.Rounds.FirstOrDefault(x => x.Name == "session-direct-hb");
            Check("server CPU was read from /proc", cpu is not null && cpu.ServerCpuSeconds.GetValueOrDefault("session") > 0);
            var exam = report.ExamDay;
            Check("exam day: every stream opened and none dropped", exam is not null && exam.Streams == expected && exam.StreamsFailed == 0 && exam.StreamsDropped == 0,
                exam is null ? "did not run" : $"{exam.Streams} open, {exam.StreamsFailed} failed, {exam.StreamsDropped} dropped: {string.Join(" | ", exam.ErrorSamples.Take(2))}");
            Check("exam day: heartbeats and saves were answered", exam is not null && exam.HeartbeatsPerSecond > 0 && exam.SavesPerSecond > 0 && exam.Latency is { Count: > 0 });
            Check("exam day: server memory per stream was measured", exam is not null && exam.Extra.GetValueOrDefault("session_rss_streams_open_mb") > 0);
            Check("exam day: every learner's final check passed", exam is not null && (int)exam.Extra.GetValueOrDefault("final_checks_ok") == expected,
                exam is null ? "" : $"{exam.Extra.GetValueOrDefault("final_checks_ok")} ok, {exam.Extra.GetValueOrDefault("final_checks_failed")} failed");
            var board = report.Board;
            Check("board decisions reached the learners' dashboards", board is { Ops: > 0 } && board.Ops == (long)board.Extra.GetValueOrDefault("decisions_recorded"),
                board is null ? "did not run" : $"{board.Ops} seen of {board.Extra.GetValueOrDefault("decisions_recorded")}: {string.Join(" | ", board.ErrorSamples.Take(2))}");
            Check("ratios and targets were computed", report.Ratios.Count > 0 && report.Targets.Count > 0);
        }
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }
}
