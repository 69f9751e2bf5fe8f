using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Vigil.Bench.Ceilings;
using Vigil.Bench.Load;
using Vigil.Bench.Measure;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;
using Vigil.Testing.Images;

namespace Vigil.Bench.Orchestration;

/// <summary>Runs one scenario with the server CPU and memory sampled around its measured window.</summary>
internal sealed class Scenarios(BenchOptions o, Stack stack, string tempDir, Action<string> log)
{
    private string? LoadCore => o.Pin ? Pinning.LoadCore : null;

    private void Sample(ScenarioResult r, ServerSample s0, ServerSample s1)
    {
        foreach (var (k, v) in s1.Cpu) r.ServerCpuSeconds[k] = Math.Round(v - s0.Cpu.GetValueOrDefault(k), 3);
        foreach (var (k, v) in s1.Rss) r.ServerRssMb[k] = Math.Round(v / 1048576.0, 1);
        var total = Math.Max(1, s1.MachineTotal - s0.MachineTotal);
        r.StealPercent = Math.Round(100.0 * (s1.MachineSteal - s0.MachineSteal) / total, 2);
        r.MachineBusyPercent = Math.Round(100.0 * (total - (s1.MachineIdle - s0.MachineIdle)) / total, 1);
    }

    /// <summary>A stream scenario on load workers.</summary>
    public async Task<ScenarioResult> StreamsAsync(string name, string what, IReadOnlyList<StreamSpec> specs, Func<Task>? afterReady = null, Func<Task>? afterGo = null)
    {
        var r = new ScenarioResult { Name = name, What = what, Seconds = specs[0].DurationSeconds };
        await using var group = await WorkerGroup.StartAsync(specs, LoadCore, tempDir);
        var (opened, failed) = await group.WaitReadyAsync(TimeSpan.FromMinutes(20));
        r.Streams = opened;
        r.StreamsFailed = failed;
        if (afterReady is not null) await afterReady();
        var pids = stack.ServerPids();
        await group.GoAsync();
        // Something done to the servers while the streams run (the reconnect storm's SIGKILL), from GO on.
        var during = afterGo?.Invoke() ?? Task.CompletedTask;
        await Task.Delay(TimeSpan.FromSeconds(specs[0].WarmupSeconds));
        var s0 = ServerSample.Take(pids);
        await Task.Delay(TimeSpan.FromSeconds(specs[0].DurationSeconds));
        var s1 = ServerSample.Take(pids);
        Sample(r, s0, s1);
        var results = await group.ResultsAsync(TimeSpan.FromMinutes(20));
        await during;
        var saves = new Latency();
        var hbs = new Latency();
        foreach (var w in results)
        {
            saves.Import(w.SaveLatency);
            hbs.Import(w.HeartbeatLatency);
            r.ErrorSamples.AddRange(w.Errors);
        }
        r.WindowStartTicks = results.Count > 0 ? results.Min(w => w.WindowStartTicks) : 0;
        r.StreamsDropped = results.Sum(w => w.Dropped);
        r.Unanswered = results.Sum(w => w.Unanswered);
        r.Errors = results.Sum(w => w.SaveRejected) + r.StreamsDropped + r.StreamsFailed;
        r.HeartbeatsPerSecond = Math.Round(results.Sum(w => w.HeartbeatRepliesInWindow) / r.Seconds, 1);
        r.SavesPerSecond = Math.Round(results.Sum(w => w.SaveAcksInWindow) / r.Seconds, 1);
        r.Ops = results.Sum(w => w.HeartbeatRepliesInWindow + w.SaveAcksInWindow);
        r.Done = results.Sum(w => w.HeartbeatReplies + w.SaveAcks);
        r.OpsPerSecond = Math.Round(r.Ops / r.Seconds, 1);
        r.Latency = saves.Count > 0 ? saves.Summary() : null;
        r.HeartbeatLatency = hbs.Count > 0 ? hbs.Summary() : null;
        r.SaveTimeline = Timeline.Merge(results.Select(w => w.SaveTimeline));
        r.HeartbeatTimeline = Timeline.Merge(results.Select(w => w.HeartbeatTimeline));
        r.Extra["final_checks_ok"] = results.Sum(w => w.FinalChecksOk);
        r.Extra["final_checks_failed"] = results.Sum(w => w.FinalChecksFailed);
        r.Extra["open_seconds_max"] = Math.Round(results.Max(w => w.OpenSeconds), 1);
        r.Extra["client_open_files_max"] = results.Max(w => w.PeakOpenFiles);
        r.Extra["heartbeats_sent"] = results.Sum(w => w.HeartbeatsSent);
        r.Extra["saves_sent"] = results.Sum(w => w.SavesSent);
        r.Extra["warnings"] = results.Sum(w => w.Warnings);
        r.Extra["save_retries"] = results.Sum(w => w.SaveRetries);
        r.Extra["heartbeat_retries"] = results.Sum(w => w.HeartbeatRetries);
        r.Extra["heartbeats_paced"] = results.Sum(w => w.PacedHeartbeats);
        r.Extra["heartbeat_pace_max_ms"] = results.Count > 0 ? results.Max(w => w.PaceMaxMs) : 0;
        if (specs[0].Resume)
        {
            var resume = new Latency();
            foreach (var w in results) resume.Import(w.ResumeLatency);
            r.Extra["streams_lost"] = results.Sum(w => w.StreamsLost);
            r.Extra["streams_resumed"] = results.Sum(w => w.Resumed);
            r.Extra["streams_never_resumed"] = results.Sum(w => w.NeverResumed);
            r.Extra["reconnect_attempts"] = results.Sum(w => w.ReconnectAttempts);
            r.Extra["acknowledged_saves_lost"] = results.Sum(w => w.LostAcknowledged);
            r.Extra["saves_stored_before_loss_unacknowledged"] = results.Sum(w => w.StoredBeforeLoss);
            if (resume.Count > 0)
            {
                var summary = resume.Summary();
                r.Extra["resume_p50_ms"] = Math.Round(summary.P50, 1);
                r.Extra["resume_p99_ms"] = Math.Round(summary.P99, 1);
                r.Extra["resume_max_ms"] = Math.Round(summary.Max, 1);
            }
            var firstLoss = results.Where(w => w.FirstLossTicks > 0).Select(w => w.FirstLossTicks).DefaultIfEmpty(0).Min();
            var lastResume = results.Select(w => w.LastResumeTicks).DefaultIfEmpty(0).Max();
            if (firstLoss > 0 && lastResume > firstLoss) r.Extra["first_loss_to_last_resume_seconds"] = Math.Round((lastResume - firstLoss) / (double)System.Diagnostics.Stopwatch.Frequency, 2);
            LastResumeTicks = lastResume;
        }
        Submitted = [.. results.SelectMany(w => w.SubmittedSessions)];
        return r;
    }

    /// <summary>With Resume: when the last lost stream of the last stream scenario was back (Stopwatch ticks).</summary>
    public long LastResumeTicks { get; private set; }

    /// <summary>The sessions whose final check succeeded in the last stream scenario.</summary>
    public List<string> Submitted { get; private set; } = [];

    /// <summary>An in-process ceiling, sampled the same way.</summary>
    public async Task<ScenarioResult> RawAsync(string name, string what, Func<Task<RawRun>> run)
    {
        var r = new ScenarioResult { Name = name, What = what, Seconds = o.RoundSeconds };
        var pids = stack.ServerPids();
        var task = run();
        await Task.Delay(TimeSpan.FromSeconds(o.WarmupSeconds));
        var s0 = ServerSample.Take(pids);
        await Task.Delay(TimeSpan.FromSeconds(o.RoundSeconds));
        var s1 = ServerSample.Take(pids);
        var raw = await task;
        Sample(r, s0, s1);
        r.Seconds = raw.Seconds;
        r.Ops = raw.Ops;
        r.Done = raw.Done;
        r.OpsPerSecond = Math.Round(raw.Ops / raw.Seconds, 1);
        r.Latency = raw.Latency.Count > 0 ? raw.Latency.Summary() : null;
        r.Errors = raw.Errors;
        if (raw.FirstError is not null) r.ErrorSamples.Add(raw.FirstError);
        foreach (var (k, v) in raw.Extra) r.Extra[k] = v;
        return r;
    }

    /// <summary>Photo uploads with a fixed number in flight for the window: to the echo server's bare
    /// decode/re-encode, or to the identity service for fresh learners (their first ID photo).</summary>
    public static async Task<RawRun> PhotosAsync(GrpcChannel channel, Func<(string? Token, string ExamId, string RequestId)?> next, int concurrency, double warmup, double seconds)
    {
        var window = new CeilingWindow(warmup, seconds);
        var photo = Setup.IdPhotoBytes;
        var exhausted = false;
        // Uploads start until the window ends; those in flight then are waited for. The rate is the uploads
        // completed after the window started, over the time from its start to the last completion (a photo
        // check can take longer than a short window).
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (window.Open(out var started))
            {
                var learner = next();
                if (learner is null) { exhausted = true; break; }
                try
                {
                    var identity = new IdentityService.IdentityServiceClient(TestChannel.As(channel, learner.Value.Token));
                    var response = await TestVerification.UploadAsync(identity, learner.Value.ExamId, PhotoKind.IdDocument, photo, learner.Value.RequestId, chunkSize: 65536);
                    if (response.Verdict == PhotoVerdict.Accepted) window.Completed(started);
                    else window.Failed("rejected: " + response.Message);
                }
                catch (RpcException ex)
                {
                    window.Failed($"{ex.StatusCode} {ex.Status.Detail}");
                }
            }
        }));
        return window.Result(untilLastCompletion: true, problem: exhausted ? "the pool of fresh learners ran out: raise --photo-pool" : null);
    }

    /// <summary>
    /// Board decision to dashboard update: each learner watches their dashboard (WatchDashboard through the
    /// gateway); a board member records a burst of decisions (RecordDecision through the gateway, many in
    /// flight); each latency runs from the decision's send to the learner's dashboard showing it. The rate is
    /// decisions seen on dashboards over the time from the first send to the last update.
    /// </summary>
    public async Task<ScenarioResult> BoardAsync(GrpcChannel gateway, IReadOnlyList<PreparedLearner> learners, int concurrency)
    {
        var r = new ScenarioResult { Name = "board-to-dashboard", What = $"{learners.Count} board decisions (burst, {concurrency} in flight) -> RabbitMQ -> certificate -> WatchDashboard, through the gateway" };
        var sent = new ConcurrentDictionary<string, long>();
        var seen = new ConcurrentDictionary<string, long>();
        var baseline = new ConcurrentDictionary<string, bool>();
        var latency = new Latency();
        // Where the time goes, stage by stage (wall clock: the servers' timestamps are on the same machine's clock, ms):
        // send -> the session's decided_at -> the certificate's projection (updated_at) -> the dashboard shows it;
        // and the RPC's own acknowledgement.
        var sentWall = new ConcurrentDictionary<string, DateTime>();
        var acked = new ConcurrentDictionary<string, long>();
        var ackLatency = new Latency();
        var toDecided = new Latency();
        var decidedToProjected = new Latency();
        var projectedToSeen = new Latency();
        static void RecordMs(Latency h, double ms) => h.RecordTicks((long)(Math.Max(0, ms) * Stopwatch.Frequency / 1000.0));
        var errors = new ConcurrentDictionary<string, int>();
        using var cts = new CancellationTokenSource();
        var dashboards = new DashboardService.DashboardServiceClient(gateway);
        var watchers = new List<Task>();
        foreach (var l in learners)
        {
            var call = dashboards.WatchDashboard(new WatchDashboardRequest(), new Metadata { { "authorization", "Bearer " + l.Token } }, cancellationToken: cts.Token);
            watchers.Add(Task.Run(async () =>
            {
                try
                {
                    await foreach (var m in call.ResponseStream.ReadAllAsync(cts.Token))
                    {
                        if (m.Entry is null || m.Entry.SessionId != l.SessionId) continue;
                        baseline[l.SessionId] = true;
                        var decided = m.Entry.DecidedAt is not null && m.Entry.Status is not (ResultStatus.BeingChecked or ResultStatus.Unspecified);
                        if (decided && sent.TryGetValue(l.SessionId, out var t0) && seen.TryAdd(l.SessionId, Stopwatch.GetTimestamp()))
                        {
                            var now = DateTime.UtcNow;
                            latency.RecordTicks(seen[l.SessionId] - t0);
                            if (sentWall.TryGetValue(l.SessionId, out var w0) && m.Entry.UpdatedAt is not null)
                            {
                                var decidedAt = m.Entry.DecidedAt!.ToDateTime();
                                var projectedAt = m.Entry.UpdatedAt.ToDateTime();
                                RecordMs(toDecided, (decidedAt - w0).TotalMilliseconds);
                                RecordMs(decidedToProjected, (projectedAt - decidedAt).TotalMilliseconds);
                                RecordMs(projectedToSeen, (now - projectedAt).TotalMilliseconds);
                            }
                        }
                    }
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled) { }
                catch (OperationCanceledException) { }
                catch (RpcException ex) { errors.AddOrUpdate($"watch: {ex.StatusCode} {ex.Status.Detail}", 1, (_, c) => c + 1); }
                finally { call.Dispose(); }
            }));
        }
        // Wait until each dashboard shows the submitted session (the SessionSubmitted event went through), at most 60 s.
        var until = DateTime.UtcNow.AddSeconds(60);
        while (baseline.Count < learners.Count && DateTime.UtcNow < until) await Task.Delay(100);
        r.Extra["dashboards_showing_submission"] = baseline.Count;
        var pids = stack.ServerPids();
        var s0 = ServerSample.Take(pids);
        var board = new ExamBoardService.ExamBoardServiceClient(gateway);
        var auth = new Metadata { { "authorization", "Bearer " + TestTokens.Board("bench-board", Setup.Course) } };
        using var gate = new SemaphoreSlim(concurrency);
        var first = Stopwatch.GetTimestamp();
        await Task.WhenAll(learners.Select(async l =>
        {
            await gate.WaitAsync();
            try
            {
                sentWall[l.SessionId] = DateTime.UtcNow;
                var t0 = sent[l.SessionId] = Stopwatch.GetTimestamp();
                await board.RecordDecisionAsync(new RecordDecisionRequest
                {
                    RequestId = "d-" + l.SessionId,
                    SessionId = l.SessionId,
                    Outcome = DecisionOutcome.Valid,
                    Notes = "bench",
                }, auth, deadline: DateTime.UtcNow.AddSeconds(60));
                var t1 = acked[l.SessionId] = Stopwatch.GetTimestamp();
                ackLatency.RecordTicks(t1 - t0);
            }
            catch (RpcException ex)
            {
                sent.TryRemove(l.SessionId, out _);
                sentWall.TryRemove(l.SessionId, out _);
                errors.AddOrUpdate($"decision: {ex.StatusCode} {ex.Status.Detail}", 1, (_, c) => c + 1);
            }
            finally { gate.Release(); }
        }));
        var recorded = sent.Count;
        until = DateTime.UtcNow.AddSeconds(60);
        while (seen.Count < recorded && DateTime.UtcNow < until) await Task.Delay(20);
        var s1 = ServerSample.Take(pids);
        Sample(r, s0, s1);
        await cts.CancelAsync();
        await Task.WhenAll(watchers);
        var last = seen.IsEmpty ? first : seen.Values.Max();
        r.Seconds = Math.Round((last - first) / (double)Stopwatch.Frequency, 3);
        r.Ops = seen.Count;
        r.OpsPerSecond = r.Seconds > 0 ? Math.Round(seen.Count / r.Seconds, 1) : 0;
        r.Streams = learners.Count;
        r.Latency = latency.Count > 0 ? latency.Summary() : null;
        r.Extra["decisions_recorded"] = recorded;
        r.Extra["dashboard_updates_seen"] = seen.Count;
        // The RPC-acknowledged rate: decisions acknowledged over the time from the first send to the last acknowledgement.
        if (!acked.IsEmpty)
        {
            var ackSeconds = (acked.Values.Max() - first) / (double)Stopwatch.Frequency;
            r.Extra["rpc_acked_per_second"] = ackSeconds > 0 ? Math.Round(acked.Count / ackSeconds, 1) : 0;
        }
        void Stage(string name, Latency h)
        {
            if (h.Count == 0) return;
            r.Extra[name + "_p50_ms"] = Math.Round(h.PercentileMs(50), 1);
            r.Extra[name + "_p99_ms"] = Math.Round(h.PercentileMs(99), 1);
        }
        Stage("rpc_ack", ackLatency);
        Stage("send_to_decided", toDecided);
        Stage("decided_to_projected", decidedToProjected);
        Stage("projected_to_seen", projectedToSeen);
        r.Errors = errors.Values.Sum() + (recorded - seen.Count);
        r.ErrorSamples.AddRange(errors.Select(e => $"{e.Value}x {e.Key}"));
        if (recorded > seen.Count) r.ErrorSamples.Add($"{recorded - seen.Count} decisions never reached a dashboard within 60 s");
        log($"  board: {seen.Count}/{recorded} decisions on dashboards in {r.Seconds:F2} s; RPCs acknowledged at {r.Extra.GetValueOrDefault("rpc_acked_per_second")}/s (p50 {r.Extra.GetValueOrDefault("rpc_ack_p50_ms")} / p99 {r.Extra.GetValueOrDefault("rpc_ack_p99_ms")} ms)");
        log($"  board stages p50/p99 ms: send -> decided_at {r.Extra.GetValueOrDefault("send_to_decided_p50_ms")}/{r.Extra.GetValueOrDefault("send_to_decided_p99_ms")}, "
            + $"decided_at -> projected {r.Extra.GetValueOrDefault("decided_to_projected_p50_ms")}/{r.Extra.GetValueOrDefault("decided_to_projected_p99_ms")}, "
            + $"projected -> dashboard {r.Extra.GetValueOrDefault("projected_to_seen_p50_ms")}/{r.Extra.GetValueOrDefault("projected_to_seen_p99_ms")}");
        return r;
    }
}
