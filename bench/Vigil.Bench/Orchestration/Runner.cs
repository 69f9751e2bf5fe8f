using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using StackExchange.Redis;
using Vigil.Bench.Ceilings;
using Vigil.Bench.Load;
using Vigil.Bench.Measure;
using Vigil.Contracts.Identity.V1;
using Vigil.Testing;

namespace Vigil.Bench.Orchestration;

/// <summary>The whole run: fingerprint, stack, setup, shuffled rounds of ceilings and scenarios, the exam day,
/// the board burst, then the table, the ratios, the targets and the JSON.</summary>
internal static class Runner
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Saves per EVALSHA in the group-commit ceiling (<c>redis-save-16</c>).</summary>
    public const int GroupCommitBatch = 16;

    private static void Log(string message) => Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {message}");

    public static async Task<int> RunAsync(BenchOptions o, string command)
    {
        var report = new BenchReport { Command = command };
        var redis = Environment.GetEnvironmentVariable("VIGIL_REDIS");
        var rabbit = Environment.GetEnvironmentVariable("VIGIL_RABBITMQ");
        if (string.IsNullOrEmpty(redis) || string.IsNullOrEmpty(rabbit))
        {
            Console.Error.WriteLine("VIGIL_REDIS and VIGIL_RABBITMQ must be set: run bench/run.sh (it starts Redis and RabbitMQ with scripts/deps.sh).");
            return 2;
        }
        var rabbitUri = rabbit.TrimEnd('/') + "/bench";
        int? Pid(string name) => int.TryParse(Environment.GetEnvironmentVariable(name), out var p) ? p : null;
        if (o.Pin && Environment.ProcessorCount < 2)
        {
            o.Pin = false;
            report.Problems.Add("fewer than 2 cores: nothing pinned");
        }
        if (o.Pin) Pinning.Pin(Environment.ProcessId, Pinning.LoadCore);

        Log("fingerprint (fsync latency where Redis writes its AOF, steal time over 1 s)");
        report.Fingerprint = await Fingerprint.TakeAsync(Environment.GetEnvironmentVariable("VIGIL_REDIS_DIR") ?? Path.GetTempPath());
        var f = report.Fingerprint;
        Log($"  {f.Cores} cores ({f.CpuModel}), {f.MemoryGiB} GiB, fsync p50 {f.FsyncP50Ms} ms p99 {f.FsyncP99Ms} ms, steal {f.StealPercent}%, busy before start {f.BusyPercentBefore}%, load {f.LoadAverage}");

        var tempDir = Directory.CreateTempSubdirectory("vigil-bench-").FullName;
        var runId = Guid.NewGuid().ToString("N")[..8];
        var did = report.WhatItDid;
        did.Add(o.Pin
            ? "pinned: the load (this orchestrator and its worker processes) to core 0 with taskset; every server (identity, session, certificate, gateways, echo server, Redis, RabbitMQ) to core 1, with DOTNET_PROCESSOR_COUNT=1"
            : "not pinned");
        if (o.ServerEnv.Count > 0) did.Add("server environment added: " + string.Join(" ", o.ServerEnv.Select(kv => $"{kv.Key}={kv.Value}")));
        did.Add($"services run from their {ServiceProcess.BuildConfiguration} build output as real processes on loopback, logging at Warning");
        try
        {
            await using var stack = await Stack.StartAsync(o, redis, rabbitUri, Pid("VIGIL_REDIS_PID"), Pid("VIGIL_RABBITMQ_PID"), Log);
            did.Add($"{stack.Gateways.Count} gateway process(es) in front of one identity, one session and one certificate process; one more gateway in front of the echo server");
            return await RunWithStackAsync(o, stack, report, runId, tempDir, redis, rabbitUri);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or FileNotFoundException or RpcException or IOException)
        {
            report.Problems.Add("the run stopped: " + ex.Message.Split('\n')[0]);
            Log("the run stopped: " + ex);
            Write(o, report);
            return 1;
        }
        finally
        {
            try { Directory.Delete(tempDir, true); } catch (IOException) { }
        }
    }

    private static async Task<int> RunWithStackAsync(BenchOptions o, Stack stack, BenchReport report, string runId, string tempDir, string redis, string rabbitUri)
    {
        var did = report.WhatItDid;
        var scenarios = new Scenarios(o, stack, tempDir, Log);
        var locals = Enumerable.Range(1, o.LoopbackAddresses).Select(i => $"127.0.0.{i}").ToList();
        using var sessionDirect = Connections.Channel(stack.Session.GrpcAddress.ToString().TrimEnd('/'), System.Net.IPAddress.Loopback, true);
        using var gateway0 = Connections.Channel(stack.Gateways[0].GrpcAddress.ToString().TrimEnd('/'), System.Net.IPAddress.Loopback, true);
        using var echoDirect = Connections.Channel(stack.EchoAddress, System.Net.IPAddress.Loopback, true);
        using var identityDirect = Connections.Channel(stack.Identity.GrpcAddress.ToString().TrimEnd('/'), System.Net.IPAddress.Loopback, true);

        // --- Setup: an exam, and learners verified and started through the gateway with the real RPCs.
        var setup = new Setup(runId, Log);
        var unpinnedSetup = o.Pin && o.SetupUnpinned && Environment.ProcessorCount > 1;
        if (unpinnedSetup)
        {
            stack.PinServers($"0-{Environment.ProcessorCount - 1}");
            did.Add("setup ran with the servers on every core (--setup-unpinned); they were pinned back to core 1 before the first measurement");
        }
        await setup.CreateExamAsync(sessionDirect, TimeSpan.FromSeconds(o.HeartbeatSeconds));
        Log($"exam {setup.ExamId}; preparing {o.Learners} learners through the gateway (register, system check, microphone, ID photo, face photo, start)");
        var learners = await setup.PrepareAsync(gateway0, 0, o.Learners, o.SetupConcurrency);
        var photos = setup.PhotosAccepted + setup.PhotosRejected;
        report.Setup["learners_requested"] = o.Learners;
        report.Setup["learners_started"] = learners.Count;
        report.Setup["setup_seconds"] = Math.Round(setup.PhotoSeconds, 1);
        report.Setup["photos_uploaded"] = photos;
        report.Setup["photos_rejected"] = setup.PhotosRejected;
        report.Setup["photo_validations_per_second_in_setup"] = setup.PhotoSeconds > 0 ? Math.Round(photos / setup.PhotoSeconds, 1) : 0;
        report.Setup["setup_servers_on_every_core"] = unpinnedSetup ? 1 : 0;
        report.Setup["photo_upload_p50_ms"] = setup.PhotoLatency.PercentileMs(50);
        report.Setup["photo_upload_p99_ms"] = setup.PhotoLatency.PercentileMs(99);
        foreach (var (e, c) in setup.Errors.OrderByDescending(e => e.Value).Take(10)) report.Problems.Add($"setup: {c}x {e}");
        Log($"  {learners.Count}/{o.Learners} learners in sessions in {setup.PhotoSeconds:F1} s ({photos} photos)");
        did.Add($"setup: {learners.Count} learners verified and started through the gateway ({o.SetupConcurrency} at a time): {photos} photo uploads, the start-of-exam burst");

        // Fresh learners for the identity photo scenario: system check and microphone test done, no photo yet.
        var photoPoolSize = learners.Count == 0 || !o.Selects("photo-identity") ? 0 : o.PhotoPool > 0 ? o.PhotoPool : (int)Math.Min(20000, o.Rounds * (o.RoundSeconds + o.WarmupSeconds) * 150);
        var photoPool = new ConcurrentQueue<(string? Token, string ExamId, string RequestId)>();
        if (photoPoolSize > 0)
        {
            using var journey = new Journey(gateway0);
            using var gate = new SemaphoreSlim(o.SetupConcurrency);
            await Task.WhenAll(Enumerable.Range(0, photoPoolSize).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    var id = $"bp-{runId}-{i:D6}";
                    var learner = new TestLearner(id, "Photo " + i, TestTokens.Learner(id), journey);
                    try { await learner.Identity().RegisterLearnerAsync(new RegisterLearnerRequest { RequestId = "r-" + id, Email = $"photo.{runId}.{i}@example.org", DisplayName = learner.Name }); }
                    catch (RpcException ex) when (ex.StatusCode is StatusCode.AlreadyExists or StatusCode.Unimplemented) { }
                    await journey.CompleteChecksAsync(learner, setup.ExamId);
                    photoPool.Enqueue((learner.Token, setup.ExamId, "p-" + id));
                }
                catch (RpcException) { }
                finally { gate.Release(); }
            }));
        }

        if (unpinnedSetup) stack.PinServers(Pinning.ServerCore);

        // --- The scenarios of each round, shuffled per round.
        var sat = learners.Take(o.SaturateStreams).ToList();
        // The save-latency scenarios spread the fixed rate over many streams, as an exam day does (each learner
        // saves rarely): all the prepared learners, up to --latency-streams.
        var latencyLearners = learners.Take(Math.Max(o.LatencyStreams, 1)).ToList();
        var fakeLearners = Enumerable.Range(0, Math.Max(o.SaturateStreams, Math.Max(latencyLearners.Count, o.Smoke ? o.SaturateStreams : o.LatencyStreams))).Select(i => new PreparedLearner("echo-" + i, TestTokens.Learner("echo-" + i), "echo-session-" + i)).ToList();
        string Gw(int i) => stack.Gateways[i % stack.Gateways.Count].GrpcAddress.ToString().TrimEnd('/');
        var echoGw = stack.EchoGateway.GrpcAddress.ToString().TrimEnd('/');
        var sessionAddr = stack.Session.GrpcAddress.ToString().TrimEnd('/');
        StreamSpec Spec(string name, IReadOnlyList<PreparedLearner> who, Func<int, string> address, bool perLearner, string mode, string kind, double saveSeconds = 0) => new()
        {
            Name = name,
            Mode = mode,
            Kind = kind,
            Depth = o.SaturateDepth,
            Streams = Setup.Targets(who, address),
            ConnectionPerStream = perLearner,
            SharedConnections = o.DirectConnections,
            LocalAddresses = locals,
            HeartbeatSeconds = 0,
            SaveSeconds = saveSeconds,
            WarmupSeconds = o.WarmupSeconds,
            DurationSeconds = o.RoundSeconds,
            QuestionIds = [.. Setup.QuestionIds],
        };
        var latencyStreams = latencyLearners.Count > 0 ? latencyLearners.Count : Math.Min(fakeLearners.Count, o.LatencyStreams);
        var saveInterval = latencyStreams / o.SaveRate;
        var defs = new List<(string Name, Func<Task<ScenarioResult>> Run)>();
        void StreamDef(string name, string what, Func<StreamSpec> spec, bool needsSessions)
        {
            if (needsSessions && sat.Count == 0) return;
            defs.Add((name, () => scenarios.StreamsAsync(name, what, [spec()])));
        }
        foreach (var kind in new[] { "heartbeat", "save" })
        {
            var k = kind == "heartbeat" ? "hb" : "save";
            StreamDef($"echo-direct-{k}", $"{kind}s, {o.SaturateStreams} streams x {o.SaturateDepth} in flight, {o.DirectConnections} shared HTTP/2 connections, empty echo",
                () => Spec($"echo-direct-{k}", fakeLearners.Take(o.SaturateStreams).ToList(), _ => stack.EchoAddress, false, "saturate", kind), false);
            StreamDef($"echo-gateway-{k}", $"{kind}s, {o.SaturateStreams} learners on their own connections through a gateway to the empty echo",
                () => Spec($"echo-gateway-{k}", fakeLearners.Take(o.SaturateStreams).ToList(), _ => echoGw, true, "saturate", kind), false);
            StreamDef($"session-direct-{k}", $"{kind}s, {sat.Count} streams x {o.SaturateDepth} in flight, {o.DirectConnections} shared HTTP/2 connections to the session service",
                () => Spec($"session-direct-{k}", sat, _ => sessionAddr, false, "saturate", kind), true);
            StreamDef($"session-gateway-{k}", $"{kind}s, {sat.Count} learners on their own connections through the gateway(s) to the session service",
                () => Spec($"session-gateway-{k}", sat, Gw, true, "saturate", kind), true);
        }
        foreach (var (target, addr, perLearner, sessions) in new[]
        {
            ("echo-direct", (Func<int, string>)(_ => stack.EchoAddress), false, false),
            ("echo-gateway", _ => echoGw, true, false),
            ("session-direct", _ => sessionAddr, false, true),
            ("session-gateway", Gw, true, true),
        })
        {
            var name = $"{target}-save-latency";
            StreamDef(name, $"saves open loop at {o.SaveRate} /s over {latencyStreams} streams, latency from the intended send time",
                () => Spec(name, sessions ? latencyLearners : fakeLearners.Take(latencyStreams).ToList(), addr, perLearner, "open-loop", "save", saveInterval), sessions);
        }
        var mux = await ConnectionMultiplexer.ConnectAsync(redis);
        defs.Add(("redis-raw", () => scenarios.RawAsync("redis-raw", $"HSET of 200 bytes, {o.SaturateStreams} in flight on one multiplexer, appendfsync always",
            () => RedisCeiling.RunAsync(mux, o.SaturateStreams, o.WarmupSeconds, o.RoundSeconds))));
        // What group commit of saves would give: the session's save script, one save per EVALSHA (as the session runs
        // it) and GroupCommitBatch saves per EVALSHA, the same number of saves in flight.
        defs.Add(("redis-save-1", () => scenarios.RawAsync("redis-save-1", $"the session's save script, one save per EVALSHA, {o.SaturateStreams} saves in flight, appendfsync always",
            () => SaveScriptCeiling.RunAsync(mux, 1, o.SaturateStreams, o.WarmupSeconds, o.RoundSeconds))));
        defs.Add(($"redis-save-{GroupCommitBatch}", () => scenarios.RawAsync($"redis-save-{GroupCommitBatch}", $"the session's save script, {GroupCommitBatch} saves per EVALSHA (a group commit), {o.SaturateStreams} saves in flight, appendfsync always",
            () => SaveScriptCeiling.RunAsync(mux, GroupCommitBatch, o.SaturateStreams, o.WarmupSeconds, o.RoundSeconds))));
        // What acknowledging by a replica costs (Redis:AcknowledgeReplicas): the one write path to a primary with a
        // replica of its own, acknowledged by the primary (ack0) or once the replica confirmed (ack1), 1 and N in flight.
        await using var replicaAck = o.Selects("redis-replica-ack") ? await ReplicaAckCeiling.StartAsync() : null;
        if (replicaAck is not null)
        {
            foreach (var replicas in new[] { 0, 1 })
            {
                foreach (var (label, inFlight) in new[] { ("1", 1), ("n", o.SaturateStreams) })
                {
                    var name = $"redis-replica-ack{replicas}-c{label}";
                    var how = replicas == 0 ? "acknowledged by the primary's reply" : "acknowledged once its replica confirmed (WAIT 1)";
                    defs.Add((name, () => scenarios.RawAsync(name, $"saves (HSET of 200 bytes) through the one write path to a primary with a replica, {how}, {inFlight} in flight",
                        () => replicaAck.RunAsync(replicas, inFlight, o.WarmupSeconds, o.RoundSeconds))));
                }
            }
        }
        await using var rabbitCeiling = await RabbitCeiling.OpenAsync(rabbitUri, 4);
        defs.Add(("rabbitmq-raw", () => scenarios.RawAsync("rabbitmq-raw", "1 KiB persistent messages, publish with confirms (64 in flight on 4 channels) to a durable queue, consumed with acks",
            () => rabbitCeiling.RunAsync(64, o.WarmupSeconds, o.RoundSeconds))));
        defs.Add(("photo-echo-direct", () => scenarios.RawAsync("photo-echo-direct", $"bare SkiaSharp decode + JPEG re-encode of the ID photo ({Setup.IdPhotoBytes.Length / 1024} KiB), {o.PhotoConcurrency} uploads in flight",
            () => Scenarios.PhotosAsync(echoDirect, () => (null, "echo", "echo"), o.PhotoConcurrency, o.WarmupSeconds, o.RoundSeconds))));
        if (photoPoolSize > 0)
        {
            defs.Add(("photo-identity-direct", () => scenarios.RawAsync("photo-identity-direct", $"identity UploadPhoto of the same ID photo, fresh learners, {o.PhotoConcurrency} uploads in flight",
                () => Scenarios.PhotosAsync(identityDirect, () => photoPool.TryDequeue(out var p) ? p : null, o.PhotoConcurrency, o.WarmupSeconds, o.RoundSeconds))));
        }
        defs = [.. defs.Where(d => o.Selects(d.Name))];
        did.Add($"{o.Rounds} round(s) of {defs.Count} scenarios in shuffled order (seed {o.Seed}), {o.WarmupSeconds} s warm-up + {o.RoundSeconds} s measured each");

        var rng = new Random(o.Seed);
        for (var round = 1; round <= o.Rounds; round++)
        {
            var order = defs.OrderBy(_ => rng.Next()).ToList();
            Log($"round {round}/{o.Rounds}: {string.Join(", ", order.Select(d => d.Name))}");
            foreach (var (name, run) in order)
            {
                ScenarioResult r;
                try { r = await run(); }
                catch (Exception ex) when (ex is InvalidOperationException or RpcException or IOException or RedisException or RabbitMQ.Client.Exceptions.BrokerUnreachableException)
                {
                    r = new ScenarioResult { Name = name, Errors = 1, ErrorSamples = { ex.Message.Split('\n')[0] } };
                }
                r.Round = round;
                report.Rounds.Add(r);
                Log($"  {name}: {r.OpsPerSecond:F0} /s" + (r.Latency is { } l ? $", p50 {l.P50:F2} p99 {l.P99:F2} p99.9 {l.P999:F2} ms" : "") + (r.Errors > 0 ? $", {r.Errors} errors: {string.Join(" | ", r.ErrorSamples.Take(2))}" : ""));
            }
        }
        await mux.DisposeAsync();

        // The exam day's load on some of the learners: each on their own connection through the gateways, open
        // loop, spread over the client processes; the warm-up is at least one heartbeat interval and 10 s (the streams
        // just opened), at most a quarter of the hold.
        List<StreamSpec> HoldSpecs(string name, IReadOnlyList<PreparedLearner> who, double seconds, bool finalCheck, bool resume)
        {
            var perProcess = (int)Math.Ceiling(who.Count / (double)o.ClientProcesses);
            return [.. who.Chunk(perProcess).Select((chunk, p) => new StreamSpec
            {
                Name = name,
                Mode = "open-loop",
                Streams = [.. chunk.Select((l, j) => new StreamTarget { Address = Gw(p * perProcess + j), Token = l.Token, SessionId = l.SessionId })],
                ConnectionPerStream = true,
                LocalAddresses = locals,
                HeartbeatSeconds = o.HeartbeatSeconds,
                SaveSeconds = o.SaveEverySeconds,
                WarmupSeconds = Math.Min(Math.Max(o.HeartbeatSeconds, 10), seconds / 4),
                DurationSeconds = seconds,
                FinalCheck = finalCheck,
                QuestionIds = [.. Setup.QuestionIds],
                OpenConcurrency = 64,
                Resume = resume,
                ResumeGraceSeconds = resume ? o.ResumeGraceSeconds : 0,
            })];
        }

        // --- Session runtime variants (GC settings...): each a fresh, warmed session process holding the learners.
        if (o.Variants.Count > 0 && learners.Count > 0)
        {
            did.Add($"session variants: {string.Join("; ", o.Variants)}, each a fresh warmed session process holding {learners.Count} learners for {o.VariantHoldSeconds} s (no final check)" +
                    (o.StormAtSeconds is { } vs ? $"; {(o.StormVariants.Count == 0 ? "each" : string.Join(", ", o.StormVariants))} SIGKILLed {vs} s into the window and restarted with the variant's environment (reconnect storm)" : ""));
            foreach (var v in o.Variants)
            {
                Log($"session variant {v}");
                await FreshSessionAsync(stack, scenarios, learners, locals, Gw, v.Environment);
                var gcBefore = await ServerDiagnostics.GcAsync(stack.Session.HttpAddress);
                var rssBefore = ProcStats.RssBytes(stack.Session.Pid);
                long rssOpen = 0;
                var storms = o.Storms(v.Name);
                var variantSpecs = HoldSpecs($"variant-{v.Name}", learners, o.VariantHoldSeconds, finalCheck: false, resume: storms);
                // With --storm-at, the variant also takes the reconnect storm (--storm-variants), restarted with its own environment.
                var variantStorm = storms ? new Storm(stack, variantSpecs[0].WarmupSeconds + o.StormAtSeconds!.Value, v.Environment, Log) : null;
                var held = await scenarios.StreamsAsync($"variant-{v.Name}", $"{learners.Count} learners, session {v}", variantSpecs,
                    () => { rssOpen = ProcStats.RssBytes(stack.Session.Pid); return Task.CompletedTask; }, variantStorm is null ? null : variantStorm.RunAsync);
                variantStorm?.Report(held, o.StormAtSeconds!.Value, scenarios.LastResumeTicks);
                ServerDiagnostics.AddDelta(held.Extra, gcBefore, await ServerDiagnostics.GcAsync(stack.Session.HttpAddress));
                held.Extra["session_kb_per_stream_delta"] = Math.Round((rssOpen - rssBefore) / 1024.0 / Math.Max(1, held.Streams), 2);
                held.Extra["session_cpu_ms_per_1000_messages"] = held.Ops > 0 ? Math.Round(held.ServerCpuSeconds.GetValueOrDefault("session") * 1e6 / held.Ops, 2) : 0;
                report.Variants.Add(new VariantResult(v.Name, new Dictionary<string, string>(v.Environment), held));
                Log($"  {v.Name}: {held.Streams} open, {held.StreamsDropped} dropped, save p99 {F(held.Latency?.P99)} ms, hb p99 {F(held.HeartbeatLatency?.P99)} ms, " +
                    $"session {held.Extra["session_cpu_ms_per_1000_messages"]} ms CPU/1000 messages, {held.Extra["session_kb_per_stream_delta"]} KB/stream, " +
                    string.Join(", ", held.Extra.Where(kv => kv.Key.StartsWith("gc_", StringComparison.Ordinal)).Select(kv => $"{kv.Key} {kv.Value}")));
                if (variantStorm is not null) Log("    reconnect storm: " + Storm.Describe(held));
            }
            // Back to the run's own settings for what follows.
            await stack.RestartSessionAsync(null);
            await WaitRoutedAsync(stack, learners[0]);
        }

        // --- Ramp mode: exam days of growing size on the same learners (no final check: their sessions stay open for
        // the next step and the exam day), each held a while; the first size not held ends the ramp.
        if (o.Ramp.Count > 0 && learners.Count > 0)
        {
            did.Add($"ramp: exam days of {string.Join(", ", o.Ramp)} learners (each held {o.RampHoldSeconds} s, same schedule as the exam day), until one is not held");
            // On a fresh, warmed process, as the exam day: a first step on a cold one measured its JIT, not its size
            // (4,000 learners "not held" at p99 540 ms right after the variants' restarts).
            if (!o.Smoke) await FreshSessionAsync(stack, scenarios, learners, locals, Gw, null);
            foreach (var size in o.Ramp)
            {
                if (size > learners.Count)
                {
                    report.Problems.Add($"ramp: {size} learners asked, {learners.Count} prepared; the ramp stopped there");
                    break;
                }
                var stepSpecs = HoldSpecs($"ramp-{size}", [.. learners.Take(size)], o.RampHoldSeconds, finalCheck: false, resume: false);
                Log($"ramp: {size} learners for {o.RampHoldSeconds} s");
                var step = await scenarios.StreamsAsync($"ramp-{size}", $"{size} learners through {stack.Gateways.Count} gateway(s)", stepSpecs);
                var (held, whyNot) = Analysis.Held(step, size);
                report.Ramp.Add(new RampStep(size, held, whyNot, step));
                Log($"  ramp {size}: " + (held ? "held" : "NOT held: " + whyNot) + (step.Latency is { } rl ? $" (save p99 {rl.P99:F1} ms, session CPU {step.ServerCpuSeconds.GetValueOrDefault("session") * 100 / Math.Max(1, step.Seconds):F0}%)" : ""));
                if (!held) break;
                report.RampLargestHeld = size;
            }
        }

        // --- The exam day: every learner on their own connection through the gateways, open loop.
        // The board burst needs the exam day's submitted sessions: selecting "board" runs both.
        if (learners.Count > 0 && (o.Selects("exam-day") || o.Selects("board")))
        {
            var specs = HoldSpecs("exam-day", learners, o.DurationSeconds, finalCheck: true, resume: o.StormAtSeconds is not null);
            did.Add($"exam day: {learners.Count} learners over {specs.Count} client process(es) and {stack.Gateways.Count} gateway(s), {o.LoopbackAddresses} loopback source addresses, heartbeat every {o.HeartbeatSeconds} s, save every {o.SaveEverySeconds} s, {o.DurationSeconds} s measured, then each learner's final check");
            Log($"exam day: {learners.Count} learners, {specs.Count} client process(es), {stack.Gateways.Count} gateway(s), {o.DurationSeconds} s");
            // A fresh session process (same ports) so that its memory per stream is not hidden by what the
            // earlier rounds' streams left in its heap; wait until every gateway routes to it again.
            // (Not at the smoke size, which only proves the harness runs and must stay short.)
            if (!o.Smoke)
            {
                Log("restarting the session process for the exam day's memory measurement");
                var jitWait = await FreshSessionAsync(stack, scenarios, learners, locals, Gw, null);
                did.Add($"exam day: the fresh session process was warmed (5 s of heartbeats, then 5 s of saves, on 100 streams) and its JIT settled ({jitWait:F0} s until under 20 ms of compilation per second for 3 s running) before the baseline");
            }
            var gcBefore = await ServerDiagnostics.GcAsync(stack.Session.HttpAddress);
            var redisBefore = await ServerDiagnostics.RedisAsync(redis);
            var rssBefore = ProcStats.RssBytes(stack.Session.Pid);
            var gwRssBefore = stack.Gateways.Sum(g => ProcStats.RssBytes(g.Pid));
            long rssOpen = 0, gwRssOpen = 0;
            using var stopSampling = new CancellationTokenSource();
            Task<ServerTimeline>? sampling = null;
            // The reconnect storm: the session process SIGKILLed with every stream open, and started again at once.
            var storm = o.StormAtSeconds is { } stormAt ? new Storm(stack, specs[0].WarmupSeconds + stormAt, null, Log) : null;
            var exam = await scenarios.StreamsAsync("exam-day", $"{learners.Count} learners through {stack.Gateways.Count} gateway(s)", specs, async () =>
            {
                rssOpen = ProcStats.RssBytes(stack.Session.Pid);
                gwRssOpen = stack.Gateways.Sum(g => ProcStats.RssBytes(g.Pid));
                if (o.GcDump is not null) await HeapSnapshot.TakeAsync(stack.Session.Pid, o.GcDump, Log);
                sampling = ServerTimeline.RunAsync(stack.Session.HttpAddress, stack.ServerPids(), stopSampling.Token);
            }, storm is null ? null : storm.RunAsync);
            await stopSampling.CancelAsync();
            if (sampling is not null) exam.ServerTimeline = (await sampling).Seconds(exam.WindowStartTicks);
            // What could explain a tail: the session's garbage collections and Redis's forks/AOF rewrites over
            // the exam day (streams opening to final checks), and the worst seconds of the window.
            ServerDiagnostics.AddDelta(exam.Extra, gcBefore, await ServerDiagnostics.GcAsync(stack.Session.HttpAddress));
            ServerDiagnostics.AddDelta(exam.Extra, redisBefore, await ServerDiagnostics.RedisAsync(redis), "redis_latest_fork_usec", "redis_aof_current_size", "redis_used_memory");
            var opened = Math.Max(1, exam.Streams);
            exam.Extra["session_rss_before_mb"] = Math.Round(rssBefore / 1048576.0, 1);
            exam.Extra["session_rss_streams_open_mb"] = Math.Round(rssOpen / 1048576.0, 1);
            exam.Extra["session_kb_per_stream_delta"] = Math.Round((rssOpen - rssBefore) / 1024.0 / opened, 2);
            exam.Extra["session_rss_baseline_is_fresh_warmed_process"] = o.Smoke ? 0 : 1;
            exam.Extra["session_kb_per_stream_total"] = Math.Round(rssOpen / 1024.0 / opened, 2);
            exam.Extra["session_rss_end_mb"] = exam.ServerRssMb.GetValueOrDefault("session");
            exam.Extra["gateways_kb_per_stream_delta"] = Math.Round((gwRssOpen - gwRssBefore) / 1024.0 / opened, 2);
            exam.Extra["session_cpu_ms_per_1000_messages"] = exam.Ops > 0 ? Math.Round(exam.ServerCpuSeconds.GetValueOrDefault("session") * 1e6 / exam.Ops, 2) : 0;
            if (storm is not null)
            {
                storm.Report(exam, o.StormAtSeconds!.Value, scenarios.LastResumeTicks);
                did.Add($"reconnect storm: the session process SIGKILLed {o.StormAtSeconds} s into the window with every stream open and started again; every learner resumed through the gateways (backoff 250 ms doubling to 8 s, full jitter, the server's pushback when given)");
            }
            report.ExamDay = exam;
            Log($"  exam day: {exam.Streams} streams open ({exam.StreamsFailed} failed to open, {exam.StreamsDropped} dropped), {exam.HeartbeatsPerSecond} hb/s, {exam.SavesPerSecond} saves/s" + (exam.Latency is { } l ? $", save p99 {l.P99:F2} ms" : "") + $", session RSS {(rssOpen - rssBefore) / 1024.0 / opened:F1} KB/stream");
            Log($"    told to retry: {exam.Extra.GetValueOrDefault("save_retries")} saves (sent again), {exam.Extra.GetValueOrDefault("heartbeat_retries")} heartbeats; heartbeats spaced out by the server's pace: {exam.Extra.GetValueOrDefault("heartbeats_paced")} (widest {exam.Extra.GetValueOrDefault("heartbeat_pace_max_ms")} ms)");
            if (storm is not null) Log("    reconnect storm: " + Storm.Describe(exam));
            foreach (var e in exam.ErrorSamples.Take(5)) Log("    " + e);
            Log("    worst seconds for saves (second of the window: saves, worst ms): " + string.Join(", ",
                (exam.SaveTimeline ?? []).OrderByDescending(t => t.MaxMs).Take(6).Select(t => $"{t.Second}: {t.Messages}, {t.MaxMs:F0}")));
            var worst = (exam.SaveTimeline ?? []).Concat(exam.HeartbeatTimeline ?? []).GroupBy(t => t.Second).Select(g => (Second: g.Key, Max: g.Max(t => t.MaxMs))).OrderByDescending(x => x.Max).Take(4);
            foreach (var (second, max) in worst)
            {
                var at = exam.ServerTimeline?.FirstOrDefault(x => x.Second == second);
                Log($"    second {second}: worst {max:F0} ms; servers then: " + (at is null ? "not sampled" : $"session GC pause {at.SessionGcPauseMs} ms, JIT {at.SessionJitMs} ms, CPU % " + string.Join(" ", at.CpuPercent.Select(kv => $"{kv.Key} {kv.Value}"))));
            }
            Log("    session GC and Redis over the exam day: " + string.Join(", ", exam.Extra.Where(kv => kv.Key.StartsWith("gc_", StringComparison.Ordinal) || kv.Key.StartsWith("redis_", StringComparison.Ordinal)).Select(kv => $"{kv.Key} {kv.Value}")));

            // --- Board decisions on the submitted sessions, watched on the learners' dashboards.
            var submitted = scenarios.Submitted.ToHashSet(StringComparer.Ordinal);
            var decided = learners.Where(l => submitted.Contains(l.SessionId)).Take(o.Decisions).ToList();
            if (decided.Count > 0 && o.Selects("board"))
            {
                Log($"board: {decided.Count} decisions");
                report.Board = await scenarios.BoardAsync(gateway0, decided, 64);
            }
            else if (decided.Count == 0) report.Problems.Add("no submitted session: the board-to-dashboard scenario did not run");
        }
        else if (learners.Count == 0)
        {
            report.Problems.Add("no learner could start a session: the session, exam-day and board scenarios did not run (see the setup errors)");
        }

        Analysis.Summarize(o, report);
        Console.WriteLine(Analysis.Table(report));
        Write(o, report);
        return 0;
    }

    /// <summary>
    /// A fresh session process (same ports, <paramref name="environment"/> on top of the run's settings), routed to by
    /// every gateway and warmed (JIT, thread pool, HTTP/2 and Redis paths) with a short burst on a few streams that then
    /// close, then left until its JIT settles: a warm process holding no stream. Returns the seconds of that wait.
    /// </summary>
    private static async Task<double> FreshSessionAsync(Stack stack, Scenarios scenarios, List<PreparedLearner> learners, List<string> locals, Func<int, string> gw,
        IReadOnlyDictionary<string, string>? environment)
    {
        await stack.RestartSessionAsync(environment);
        await WaitRoutedAsync(stack, learners[0]);
        var warm = learners.Take(Math.Min(100, learners.Count)).ToList();
        var warmSpec = new StreamSpec
        {
            Name = "warm-up",
            Mode = "saturate",
            Kind = "heartbeat",
            Streams = [.. warm.Select((l, j) => new StreamTarget { Address = gw(j), Token = l.Token, SessionId = l.SessionId })],
            ConnectionPerStream = true,
            LocalAddresses = locals,
            WarmupSeconds = 0,
            DurationSeconds = 5,
            QuestionIds = [.. Setup.QuestionIds],
        };
        // Both paths of the stream: heartbeats, then saves (each its own Redis script and messages).
        await scenarios.StreamsAsync("warm-up", "warm-up of the fresh session process (heartbeats)", [warmSpec]);
        warmSpec.Kind = "save";
        await scenarios.StreamsAsync("warm-up", "warm-up of the fresh session process (saves)", [warmSpec]);
        // Tiered compilation goes on recompiling hot methods for a while after a start (measured: 0.5-0.8 s of JIT
        // per second, 20-70 s after the restart, on the one server core): wait until it has settled.
        return await WaitJitQuietAsync(stack.Session.HttpAddress, TimeSpan.FromSeconds(90));
    }

    /// <summary>Waits until the process's JIT compiles under 20 ms per second for 3 seconds running (or the limit); returns the seconds waited.</summary>
    private static async Task<double> WaitJitQuietAsync(Uri http, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        var quiet = 0;
        var last = (await ServerDiagnostics.GcAsync(http)).GetValueOrDefault("jit_seconds");
        while (quiet < 3 && watch.Elapsed < limit)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var now = (await ServerDiagnostics.GcAsync(http)).GetValueOrDefault("jit_seconds");
            quiet = now - last < 0.020 ? quiet + 1 : 0;
            last = now;
        }
        return watch.Elapsed.TotalSeconds;
    }

    private static string F(double? ms) => ms is { } v && !double.IsNaN(v) ? v.ToString("F1", CultureInfo.InvariantCulture) : "n/a";

    private static async Task WaitRoutedAsync(Stack stack, PreparedLearner learner)
    {
        foreach (var g in stack.Gateways)
        {
            using var ch = Connections.Channel(g.GrpcAddress.ToString().TrimEnd('/'), System.Net.IPAddress.Loopback, false);
            var client = new Vigil.Contracts.Session.V1.SessionService.SessionServiceClient(ch);
            var until = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < until)
            {
                try
                {
                    await client.GetSessionAsync(new Vigil.Contracts.Session.V1.GetSessionRequest { SessionId = learner.SessionId },
                        new Metadata { { "authorization", "Bearer " + learner.Token } }, deadline: DateTime.UtcNow.AddSeconds(5));
                    break;
                }
                catch (RpcException) { await Task.Delay(500); }
            }
        }
    }

    private static void Write(BenchOptions o, BenchReport report)
    {
        var path = o.Output ?? Path.Combine(ServiceProcess.RepositoryRoot, "bench", "results", o.Smoke ? "smoke.json" : "latest.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, JsonSerializer.Serialize(report, ReportJson.Default.BenchReport));
        Log("JSON written to " + path);
    }
}

/// <summary>
/// The reconnect storm: <see cref="RunAsync"/> (started at GO) waits, SIGKILLs the session process with every stream
/// open and starts it again on its ports with <paramref name="environment"/>; <see cref="Report"/> adds when it came
/// back and when the last learner resumed to the scenario's figures.
/// </summary>
internal sealed class Storm(Stack stack, double afterGoSeconds, IReadOnlyDictionary<string, string>? environment, Action<string> log)
{
    private long _kill, _back;

    public async Task RunAsync()
    {
        await Task.Delay(TimeSpan.FromSeconds(afterGoSeconds));
        log($"reconnect storm: SIGKILL of the session process (pid {stack.Session.Pid}) with every stream open");
        _kill = Stopwatch.GetTimestamp();
        await stack.RestartSessionAsync(environment);
        _back = Stopwatch.GetTimestamp();
        log($"reconnect storm: the session process answers again after {(_back - _kill) / (double)Stopwatch.Frequency:F1} s (pid {stack.Session.Pid})");
    }

    public void Report(ScenarioResult r, double stormAt, long lastResumeTicks)
    {
        if (_kill == 0) return;
        // The session process was replaced inside the window: its CPU, GC and JIT deltas mix two processes (and can
        // read negative). They are left out of the storm's figures rather than shown wrong.
        foreach (var key in r.Extra.Keys.Where(k => k.StartsWith("gc_", StringComparison.Ordinal) || k.StartsWith("jit_", StringComparison.Ordinal) || k == "session_cpu_ms_per_1000_messages").ToList()) r.Extra.Remove(key);
        r.ServerCpuSeconds.Remove("session");
        r.Extra["storm_at_seconds"] = stormAt;
        r.Extra["storm_session_restart_seconds"] = Math.Round((_back - _kill) / (double)Stopwatch.Frequency, 2);
        if (lastResumeTicks > _kill) r.Extra["storm_kill_to_last_resume_seconds"] = Math.Round((lastResumeTicks - _kill) / (double)Stopwatch.Frequency, 2);
    }

    public static string Describe(ScenarioResult r) => string.Join(", ", r.Extra
        .Where(kv => kv.Key.StartsWith("storm_", StringComparison.Ordinal) || kv.Key.StartsWith("streams_", StringComparison.Ordinal) || kv.Key.StartsWith("resume_", StringComparison.Ordinal) ||
                     kv.Key is "reconnect_attempts" or "acknowledged_saves_lost" or "saves_stored_before_loss_unacknowledged" or "first_loss_to_last_resume_seconds")
        .Select(kv => $"{kv.Key} {kv.Value}"));
}
