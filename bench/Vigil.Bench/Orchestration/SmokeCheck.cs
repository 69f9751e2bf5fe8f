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
        var checks = new Checks();
        var report = checks.Load(reportFile, "the run wrote its JSON");
        if (report is not null)
        {
            checks.Check("the machine's fingerprint was taken", report.Fingerprint.Cores > 0 && !double.IsNaN(report.Fingerprint.FsyncP50Ms));
            var started = report.Setup.TryGetValue("learners_started", out var s) && s is JsonElement e ? e.GetInt32() : -1;
            checks.Check($"every learner was verified and started through the gateway ({expected})", started == expected, $"started {started}; {string.Join(" | ", report.Problems.Take(3))}");
            foreach (var name in new[]
            {
                "echo-direct-hb", "echo-gateway-hb", "session-direct-hb", "session-gateway-hb",
                "echo-direct-save", "echo-gateway-save", "session-direct-save", "session-gateway-save",
                "echo-direct-save-latency", "echo-gateway-save-latency", "session-direct-save-latency", "session-gateway-save-latency",
                "redis-raw", "redis-save-1", $"redis-save-{Runner.GroupCommitBatch}", "rabbitmq-raw", "photo-echo-direct", "photo-identity-direct",
                "redis-replica-ack0-c1", "redis-replica-ack1-c1", "redis-replica-ack0-cn", "redis-replica-ack1-cn",
            })
            {
                var r = report.Rounds.FirstOrDefault(x => x.Name == name);
                // That it worked: operations done over the whole scenario (warm-up, window, replies after it). On a
                // loaded machine one stall longer than the smoke's short window leaves nothing inside it, which is a
                // figure for the benchmark, not a broken scenario; an error still fails it.
                checks.Check($"scenario {name} counted operations without errors", r is { Done: > 0, Errors: 0 },
                    r is null ? "did not run" : $"{r.Done} operations done ({r.Ops} in the window), {r.Errors} errors: {string.Join(" | ", r.ErrorSamples.Take(2))}");
            }
            var lat = report.Rounds.FirstOrDefault(x => x.Name == "session-direct-save-latency");
            checks.Check("save latency was recorded from the intended send time", lat?.Latency is { Count: > 0, P50: > 0 });
            var cpu = report.Rounds.FirstOrDefault(x => x.Name == "session-direct-hb");
            checks.Check("server CPU was read from /proc", cpu is not null && cpu.ServerCpuSeconds.GetValueOrDefault("session") > 0);
            var exam = report.ExamDay;
            checks.Check("exam day: every stream opened and none dropped", exam is not null && exam.Streams == expected && exam.StreamsFailed == 0 && exam.StreamsDropped == 0,
                exam is null ? "did not run" : $"{exam.Streams} open, {exam.StreamsFailed} failed, {exam.StreamsDropped} dropped: {string.Join(" | ", exam.ErrorSamples.Take(2))}");
            checks.Check("exam day: heartbeats and saves were answered", exam is not null && exam.HeartbeatsPerSecond > 0 && exam.SavesPerSecond > 0 && exam.Latency is { Count: > 0 });
            checks.Check("exam day: server memory per stream was measured", exam is not null && exam.Extra.GetValueOrDefault("session_rss_streams_open_mb") > 0);
            checks.Check("exam day: every learner's final check passed", exam is not null && (int)exam.Extra.GetValueOrDefault("final_checks_ok") == expected,
                exam is null ? "" : $"{exam.Extra.GetValueOrDefault("final_checks_ok")} ok, {exam.Extra.GetValueOrDefault("final_checks_failed")} failed");
            var board = report.Board;
            checks.Check("board decisions reached the learners' dashboards", board is { Ops: > 0 } && board.Ops == (long)board.Extra.GetValueOrDefault("decisions_recorded"),
                board is null ? "did not run" : $"{board.Ops} seen of {board.Extra.GetValueOrDefault("decisions_recorded")}: {string.Join(" | ", board.ErrorSamples.Take(2))}");
            checks.Check("ratios and targets were computed", report.Ratios.Count > 0 && report.Targets.Count > 0);
        }
        return checks.End();
    }

    /// <summary>
    /// Checks a smoke run of the session variants, the ramp and the reconnect storm (<c>run --smoke --only exam-day
    /// --session-variant .. --ramp .. --storm-at ..</c>): each variant and ramp step ran with every stream, and after the SIGKILL every learner resumed with no acknowledged save
    /// lost and passed its final check. No timing is asserted.
    /// </summary>
    public static int RunStorm(FileInfo reportFile, int expected, int rampSteps, int variants)
    {
        var checks = new Checks();
        var report = checks.Load(reportFile, "the storm run wrote its JSON");
        if (report is not null)
        {
            // The ramp stops at its first size not held (a latency verdict, which a loaded machine decides): it ran every step
            // up to that one, or all of them when each held. No timing is asserted here.
            var firstNotHeld = report.Ramp.FindIndex(s => !s.Held);
            var due = firstNotHeld < 0 ? rampSteps : firstNotHeld + 1;
            checks.Check($"the ramp ran its steps up to the first not held (at most {rampSteps}), each with its streams open and answered",
                report.Ramp.Count == due && report.Ramp.All(s => s.Result.Streams == s.Learners && s.Result.Done > 0),
                string.Join("; ", report.Ramp.Select(s => $"{s.Learners}: {s.Result.Streams} open, {s.Result.Done} done, {(s.Held ? "held" : s.WhyNot)}")));
            checks.Check($"each of the {variants} session variants held every stream on a fresh process", report.Variants.Count == variants && report.Variants.All(v => v.Result.Streams == expected && v.Result.StreamsDropped == 0 && v.Result.Done > 0),
                string.Join("; ", report.Variants.Select(v => $"{v.Name}: {v.Result.Streams} open, {v.Result.StreamsDropped} dropped, {v.Result.Done} done")));
            checks.Check("the ramp reported its largest held size or why none held", report.RampLargestHeld is not null || report.Ramp.Any(s => !s.Held && s.WhyNot is not null));
            var exam = report.ExamDay;
            double X(string key) => exam?.Extra.GetValueOrDefault(key, double.NaN) ?? double.NaN;
            checks.Check("storm: the session process was killed and came back", exam is not null && X("storm_session_restart_seconds") > 0, exam is null ? "exam day did not run" : "");
            checks.Check($"storm: every learner lost its stream and resumed ({expected})", X("streams_lost") == expected && X("streams_resumed") == expected && X("streams_never_resumed") == 0,
                $"lost {X("streams_lost")}, resumed {X("streams_resumed")}, never {X("streams_never_resumed")}: {string.Join(" | ", exam?.ErrorSamples.Take(3) ?? [])}");
            checks.Check("storm: no acknowledged save was lost", X("acknowledged_saves_lost") == 0, $"{X("acknowledged_saves_lost")} lost");
            checks.Check("storm: saves were acknowledged after the resume and every final check passed", exam is not null && exam.SavesPerSecond > 0 && (int)X("final_checks_ok") == expected,
                $"{X("final_checks_ok")} ok, {X("final_checks_failed")} failed");
        }
        return checks.End();
    }

    /// <summary>One line per check, "N passed, N failed" last, and the exit code.</summary>
    private sealed class Checks
    {
        private int _passed;
        private int _failed;

        public void Check(string name, bool ok, string detail = "")
        {
            if (ok)
            {
                _passed++;
                Console.WriteLine("check passed: " + name);
            }
            else
            {
                _failed++;
                Console.WriteLine($"check FAILED: {name}{(detail.Length > 0 ? " (" + detail + ")" : "")}");
            }
        }

        /// <summary>The run's JSON, checked as <paramref name="wrote"/>; null (a failed check) when it cannot be read.</summary>
        public BenchReport? Load(FileInfo file, string wrote)
        {
            try
            {
                var report = JsonSerializer.Deserialize(File.ReadAllText(file.FullName), ReportJson.Default.BenchReport);
                Check(wrote, report is not null);
                return report;
            }
            catch (Exception ex) when (ex is IOException or JsonException)
            {
                Check(wrote, false, ex.Message);
                return null;
            }
        }

        public int End()
        {
            Console.WriteLine($"{_passed} passed, {_failed} failed");
            return _failed == 0 ? 0 : 1;
        }
    }
}
