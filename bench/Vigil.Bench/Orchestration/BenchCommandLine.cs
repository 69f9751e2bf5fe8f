using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Vigil.Bench.Load;
using Vigil.Bench.Photos;
using Vigil.Bench.Review;
using Vigil.Bench.Servers;

namespace Vigil.Bench.Orchestration;

/// <summary>
/// The harness's command line (System.CommandLine, as the CLI): <c>run</c> orchestrates (what bench/run.sh calls),
/// <c>worker</c> and <c>echo-server</c> are the processes it starts, <c>check-smoke</c> checks a smoke run's JSON,
/// <c>photo-stages</c> times the identity service's photo check stage by stage, <c>review-paging</c> pages the board's
/// review list of a 20,000-session course. Every command has <c>--help</c>; a mistake (an unknown flag, a value
/// that is not a number, a missing file) exits 2 naming the flag, before anything starts.
/// </summary>
internal static class BenchCommandLine
{
    public static RootCommand Create()
    {
        var root = new RootCommand("Vigil.Bench: Vigil's benchmark harness (bench/run.sh runs its `run` command)");
        root.Subcommands.Add(Run());
        root.Subcommands.Add(Worker());
        root.Subcommands.Add(EchoServerCommand());
        root.Subcommands.Add(CheckSmoke());
        root.Subcommands.Add(CheckStorm());
        root.Subcommands.Add(PhotoStagesCommand());
        root.Subcommands.Add(ReviewPagingCommand());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Create().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) await Console.Error.WriteLineAsync("Vigil.Bench: " + error.Message);
            await Console.Error.WriteLineAsync("Run bench/run.sh --help (or Vigil.Bench <command> --help) for the flags.");
            return 2;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    private static Command Run()
    {
        var smoke = new Option<bool>("--smoke") { Description = "Tiny sizes (20 learners, 5 s, 1 round of 0.5 s): proves the harness works; flags given beside it still win" };
        var learners = Positive("--learners", "N", "Exam-day learners held through the gateways (default 2000)");
        var duration = Seconds("--duration", "Exam-day hold, seconds (default 60)");
        var heartbeat = Seconds("--heartbeat", "Heartbeat interval per learner, seconds (default 5)");
        var saveEvery = Seconds("--save-every", "Answer save interval per learner, seconds (default 30)");
        var clientProcesses = Positive("--client-processes", "N", "Load processes (default: one per 8,000 learners; 20,000 open files per process here)");
        var gateways = Positive("--gateways", "N", "Gateway processes (default: one per 10,000 learners)");
        var loopback = Positive("--loopback-addresses", "N", "Client source addresses 127.0.0.1..N (default 8, at most 250)");
        var rounds = Positive("--rounds", "N", "Interleaved rounds of ceilings and scenarios, shuffled (default 3)");
        var roundSeconds = Seconds("--round-seconds", "Measured seconds per scenario per round (default 5)");
        var warmup = Seconds("--warmup", "Warm-up seconds before each measured window (default 1)");
        var saturateStreams = Positive("--saturate-streams", "N", "Streams in the message-rate scenarios (default 64)");
        var saturateDepth = Positive("--saturate-depth", "N", "Messages in flight per stream in those scenarios (default 1)");
        var saveRate = Seconds("--save-rate", "Fixed arrival rate of the save-latency scenarios, saves/s (default 5000)", "R");
        var latencyStreams = Positive("--latency-streams", "N", "Streams that rate is spread over (default 1000, at most the learners)");
        var directConnections = Positive("--direct-connections", "N", "Connections of the direct (no gateway) scenarios (default 4)");
        var decisions = Positive("--decisions", "N", "Board decisions in the decision-to-dashboard burst (default 2000)");
        var photoConcurrency = Positive("--photo-concurrency", "N", "Photos in flight in the photo scenarios (default 4)");
        var setupConcurrency = Positive("--setup-concurrency", "N", "Learners set up at once (default 16)");
        var photoPool = Positive("--photo-pool", "N", "Fresh learners for the identity photo scenario (default: enough for 150 photos/s)");
        var stormAt = Seconds("--storm-at", "Reconnect storm: SIGKILL the session process this many seconds into the exam day's window and start it again; " +
                                            "every learner resumes through the gateways (reconnect with backoff and jitter, resend what was not acknowledged); " +
                                            "reports the time until all resumed and any acknowledged save lost");
        var resumeGrace = Seconds("--resume-grace", "With --storm-at: how long after the hold the learners still reconnecting are waited for before they count as never resumed (default 120)");
        var ramp = new Option<string>("--ramp")
        {
            HelpName = "N,N,...",
            Description = "Ramp mode: exam days of these sizes (ascending, at most --learners), each held --ramp-hold s, before the exam day; " +
                          "stops at the first not held (a stream failed, dropped or unanswered, or save p99 >= 50 ms) and reports the largest held",
        };
        ramp.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string>();
            if (text is not null && ParseRamp(text) is null) result.AddError($"--ramp takes ascending positive learner counts separated by commas; not '{text}'.");
        });
        var rampHold = Seconds("--ramp-hold", "Seconds each ramp step is held (default 60)");
        var variant = new Option<string[]>("--session-variant")
        {
            HelpName = "NAME:K=V,...",
            Description = "A session runtime variant to compare (repeatable), e.g. workstation:DOTNET_gcServer=0 or default: ; each is a fresh, warmed " +
                          "session process with that environment holding the exam day's learners for --variant-hold s, before the exam day",
        };
        variant.Validators.Add(result =>
        {
            foreach (var value in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (SessionVariant.Parse(value) is null) result.AddError($"--session-variant takes NAME:K=V,K=V (NAME: alone for the run's own settings); not '{value}'.");
            }
        });
        var variantHold = Seconds("--variant-hold", "Seconds each session variant is held (default 60)");
        var stormVariants = new Option<string>("--storm-variants")
        {
            HelpName = "NAME,...",
            Description = "With --storm-at: only these session variants take the reconnect storm (default: every variant; the exam day always does)",
        };
        var noPin = new Option<bool>("--no-pin") { Description = "Do not pin load to core 0 and servers to core 1" };
        var setupUnpinned = new Option<bool>("--setup-unpinned")
        {
            Description = "Let the servers use every core during the setup (learners verified and started: two photo checks each), " +
                          "then pin them back before anything is measured; for large runs, whose setup is the slowest part",
        };
        var output = new Option<string>("--out") { HelpName = "FILE", Description = "JSON results (default bench/results/latest.json)" };
        var seed = new Option<int?>("--seed") { HelpName = "N", Description = "Seed of the shuffles and the learners' timing (default: the clock)" };
        var serverEnv = new Option<string[]>("--server-env")
        {
            HelpName = "NAME=VALUE",
            Description = "Extra environment for every server process, echo included (repeatable), e.g. " +
                          "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1, to compare runtime settings",
        };
        serverEnv.Validators.Add(result =>
        {
            foreach (var value in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (value.IndexOf('=', StringComparison.Ordinal) <= 0) result.AddError($"--server-env takes NAME=VALUE; not '{value}'.");
            }
        });
        var gcDump = new Option<string>("--gcdump")
        {
            HelpName = "DIR",
            Description = "Heap snapshot of the session process once every exam-day stream is open, before the window " +
                          "(dotnet-gcdump must be installed as a global tool), and its report",
        };
        var only = new Option<string>("--only")
        {
            HelpName = "LIST",
            Description = "Comma-separated scenario prefixes (e.g. echo,session,redis; exam-day; board, which runs the exam day too, for its submitted sessions)",
        };
        var run = new Command("run", "Orchestrates a run: Vigil's services, the gateways and the ceiling servers as real processes, the scenarios in shuffled rounds, the table and the JSON")
        {
            smoke, learners, duration, heartbeat, saveEvery, clientProcesses, gateways, loopback, rounds, roundSeconds, warmup,
            saturateStreams, saturateDepth, saveRate, latencyStreams, directConnections, decisions, photoConcurrency,
            setupConcurrency, photoPool, noPin, setupUnpinned, output, seed, serverEnv, gcDump, only, stormAt, resumeGrace, ramp, rampHold, variant, variantHold, stormVariants,
        };
        run.SetAction(async parse =>
        {
            var o = new BenchOptions();
            if (parse.GetValue(smoke)) o.ApplySmoke();
            void Set<T>(Option<T?> option, Action<T> apply) where T : struct
            {
                if (parse.GetValue(option) is { } value) apply(value);
            }
            Set(learners, v => o.Learners = v);
            Set(duration, v => o.DurationSeconds = v);
            Set(heartbeat, v => o.HeartbeatSeconds = v);
            Set(saveEvery, v => o.SaveEverySeconds = v);
            Set(clientProcesses, v => o.ClientProcesses = v);
            Set(gateways, v => o.Gateways = v);
            Set(loopback, v => o.LoopbackAddresses = v);
            Set(rounds, v => o.Rounds = v);
            Set(roundSeconds, v => o.RoundSeconds = v);
            Set(warmup, v => o.WarmupSeconds = v);
            Set(saturateStreams, v => o.SaturateStreams = v);
            Set(saturateDepth, v => o.SaturateDepth = v);
            Set(saveRate, v => o.SaveRate = v);
            Set(latencyStreams, v => o.LatencyStreams = v);
            Set(directConnections, v => o.DirectConnections = v);
            Set(decisions, v => o.Decisions = v);
            Set(photoConcurrency, v => o.PhotoConcurrency = v);
            Set(setupConcurrency, v => o.SetupConcurrency = v);
            Set(photoPool, v => o.PhotoPool = v);
            Set(seed, v => o.Seed = v);
            if (parse.GetValue(stormAt) is { } storm) o.StormAtSeconds = storm;
            Set(resumeGrace, v => o.ResumeGraceSeconds = v);
            if (parse.GetValue(ramp) is { } steps) o.Ramp = ParseRamp(steps)!;
            Set(rampHold, v => o.RampHoldSeconds = v);
            o.Variants = [.. (parse.GetValue(variant) ?? []).Select(v => SessionVariant.Parse(v)!)];
            Set(variantHold, v => o.VariantHoldSeconds = v);
            o.StormVariants = [.. (parse.GetValue(stormVariants) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
            if (parse.GetValue(noPin)) o.Pin = false;
            if (parse.GetValue(setupUnpinned)) o.SetupUnpinned = true;
            o.Output = parse.GetValue(output);
            o.GcDump = parse.GetValue(gcDump);
            o.Only = parse.GetValue(only);
            foreach (var pair in parse.GetValue(serverEnv) ?? [])
            {
                var kv = pair.Split('=', 2);
                o.ServerEnv[kv[0]] = kv[1];
            }
            o.Complete();
            var given = parse.Tokens.Select(t => t.Value).SkipWhile(t => t == "run");
            return await Runner.RunAsync(o, "bench/run.sh " + string.Join(' ', given));
        });
        return run;
    }

    private static Command Worker()
    {
        var spec = ExistingFile("spec", "The streams to hold and the load to send (JSON written by the orchestrator)");
        var worker = new Command("worker", "A load process: learners' exam streams, started by `run`") { spec };
        worker.SetAction(parse => StreamWorker.RunAsync(parse.GetRequiredValue(spec)));
        return worker;
    }

    private static Command EchoServerCommand()
    {
        var grpcPort = Port("--grpc-port", 5190, "The echo's gRPC (HTTP/2) port");
        var httpPort = Port("--http-port", 5191, "Its health (HTTP/1.1) port");
        var echo = new Command("echo-server", "The ceiling server: an empty gRPC echo of the session stream and a bare photo decode/re-encode") { grpcPort, httpPort };
        echo.SetAction(parse => EchoServer.RunAsync(parse.GetValue(grpcPort), parse.GetValue(httpPort)));
        return echo;
    }

    private static Command CheckSmoke()
    {
        var report = new Argument<FileInfo>("report") { Description = "The smoke run's JSON (run --smoke --out FILE)" };
        var learners = new Argument<int>("learners")
        {
            Description = "Learners the run should have started (default 20)",
            DefaultValueFactory = _ => 20,
            Arity = ArgumentArity.ZeroOrOne,
            CustomParser = result => ParseWhole(result, "learners") ?? 0,
        };
        var check = new Command("check-smoke", "Checks that a smoke run ran every part and counted sane, non-zero things (no timing asserted)") { report, learners };
        check.SetAction(parse => SmokeCheck.Run(parse.GetRequiredValue(report), parse.GetValue(learners)));
        return check;
    }

    private static Command CheckStorm()
    {
        var report = new Argument<FileInfo>("report") { Description = "The storm smoke run's JSON (run --smoke --only exam-day --ramp ... --storm-at ... --out FILE)" };
        var learners = new Argument<int>("learners") { Description = "Learners the run started", CustomParser = result => ParseWhole(result, "learners") ?? 0 };
        var steps = new Argument<int>("ramp-steps") { Description = "Steps the ramp was given", CustomParser = result => ParseWhole(result, "ramp-steps") ?? 0 };
        var variants = new Argument<int>("variants") { Description = "Session variants the run was given", CustomParser = result => ParseWhole(result, "variants") ?? 0 };
        var check = new Command("check-storm", "Checks a smoke run of the session variants, the ramp and the reconnect storm: each ran with every stream, every learner resumed, no acknowledged save lost (no timing asserted)") { report, learners, steps, variants };
        check.SetAction(parse => SmokeCheck.RunStorm(parse.GetRequiredValue(report), parse.GetValue(learners), parse.GetValue(steps), parse.GetValue(variants)));
        return check;
    }

    private static Command PhotoStagesCommand()
    {
        var seconds = Seconds("--seconds", "Seconds per photo and loop (default 3)");
        var sizes = new Option<string>("--sizes") { HelpName = "WxH,...", Description = "Photo sizes (default 800x600,2048x1536,4000x3000)", DefaultValueFactory = _ => "800x600,2048x1536,4000x3000" };
        sizes.Validators.Add(result =>
        {
            if (ParseSizes(result.GetValueOrDefault<string>()) is null) result.AddError("--sizes takes WIDTHxHEIGHT pairs separated by commas, e.g. 800x600,2048x1536.");
        });
        var corpus = new Option<bool>("--corpus") { Description = "Run the photo-quality corpus instead: each photo's verdict against the expected one, then the table (docs/identity.md)" };
        var write = new Option<string>("--write") { HelpName = "DIR", Description = "With --corpus: also save each photo there, to look at" };
        var export = new Option<string>("--export") { HelpName = "DIR", Description = "Write the drawn photos the corpus's prepare.sh converts, and stop" };
        var stages = new Command("photo-stages", "Times the identity service's photo check stage by stage against a bare decode + re-encode") { seconds, sizes, corpus, write, export };
        stages.SetAction(parse => PhotoStages.RunAsync(
            parse.GetValue(seconds) ?? 3, ParseSizes(parse.GetValue(sizes))!, parse.GetValue(corpus), parse.GetValue(write), parse.GetValue(export)));
        return stages;
    }

    private static Command ReviewPagingCommand()
    {
        var sessions = Positive("--sessions", "N", "Finished sessions in the big course (default 20000)", 20000);
        var small = Positive("--small", "N", "Finished sessions in the small course it is compared with (default 200)", 200);
        var pageSize = Positive("--page-size", "N", "Sessions per page (default 50)", 50);
        var workstationGc = new Option<bool>("--workstation-gc")
        {
            Description = "The session process on the workstation GC, whose heap does not grow to server-GC budgets, so that its " +
                          "resident memory shows what the paging keeps",
        };
        var paging = new Command("review-paging", "Pages the board's review list of a big course and a small one against the real session service (Redis from VIGIL_REDIS)")
        {
            sessions, small, pageSize, workstationGc,
        };
        paging.SetAction(parse => ReviewPaging.RunAsync(parse.GetValue(sessions), parse.GetValue(small), parse.GetValue(pageSize), parse.GetValue(workstationGc)));
        return paging;
    }

    /// <summary>Parses "800x600,2048x1536"; null when any part is not a positive WIDTHxHEIGHT.</summary>
    internal static IReadOnlyList<(int W, int H)>? ParseSizes(string? text)
    {
        var sizes = new List<(int, int)>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var wh = part.Split('x');
            if (wh.Length != 2
                || !int.TryParse(wh[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w)
                || !int.TryParse(wh[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h)
                || w <= 0 || h <= 0)
            {
                return null;
            }
            sizes.Add((w, h));
        }
        return sizes.Count > 0 ? sizes : null;
    }

    /// <summary>Ascending positive counts ("5000,10000,20000"); null when the text is not that.</summary>
    internal static List<int>? ParseRamp(string text)
    {
        var steps = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 || (steps.Count > 0 && n <= steps[^1])) return null;
            steps.Add(n);
        }
        return steps.Count > 0 ? steps : null;
    }

    private static Option<int?> Positive(string name, string helpName, string description) =>
        new(name) { HelpName = helpName, Description = description, CustomParser = result => ParseWhole(result, name) };

    private static Option<int> Positive(string name, string helpName, string description, int fallback) =>
        new(name) { HelpName = helpName, Description = description, DefaultValueFactory = _ => fallback, CustomParser = result => ParseWhole(result, name) ?? 0 };

    private static Option<double?> Seconds(string name, string description, string helpName = "S") =>
        new(name)
        {
            HelpName = helpName,
            Description = description,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0 && double.IsFinite(value)) return value;
                result.AddError($"{name} takes a number above 0, not '{text}'.");
                return null;
            },
        };

    /// <summary>A whole number above 0, or an error naming the flag (never an exception).</summary>
    private static int? ParseWhole(ArgumentResult result, string name)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0) return value;
        result.AddError($"{name} takes a whole number above 0, not '{text}'.");
        return null;
    }

    private static Option<int> Port(string name, int fallback, string description) =>
        new(name)
        {
            HelpName = "PORT",
            Description = $"{description} (default {fallback})",
            DefaultValueFactory = _ => fallback,
            CustomParser = result => ParseWhole(result, name) is { } port && port <= 65535 ? port : Refuse(result, $"{name} takes a port, 1 to 65535."),
        };

    private static int Refuse(ArgumentResult result, string message)
    {
        result.AddError(message);
        return 0;
    }

    private static Argument<FileInfo> ExistingFile(string name, string description)
    {
        var argument = new Argument<FileInfo>(name) { Description = description };
        argument.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo>() is { Exists: false } file) result.AddError($"{name}: there is no file '{file}'.");
        });
        return argument;
    }
}
