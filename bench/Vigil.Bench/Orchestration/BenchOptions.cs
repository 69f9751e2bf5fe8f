using System.Globalization;

namespace Vigil.Bench.Orchestration;

/// <summary>The orchestrator's flags. Defaults: a full run of a few thousand streams for about a minute.</summary>
internal sealed class BenchOptions
{
    public int Learners { get; set; } = 2000;
    public double DurationSeconds { get; set; } = 60;
    public double HeartbeatSeconds { get; set; } = 5;
    public double SaveEverySeconds { get; set; } = 30;
    public int ClientProcesses { get; set; }
    public int Gateways { get; set; }
    public int LoopbackAddresses { get; set; } = 8;
    public int Rounds { get; set; } = 3;
    public double RoundSeconds { get; set; } = 5;
    public double WarmupSeconds { get; set; } = 1;
    public int SaturateStreams { get; set; } = 64;
    public int SaturateDepth { get; set; } = 1;
    public double SaveRate { get; set; } = 5000;
    /// <summary>Streams the save-latency scenarios spread their fixed rate over.</summary>
    public int LatencyStreams { get; set; } = 1000;
    public int DirectConnections { get; set; } = 4;
    public int Decisions { get; set; } = 2000;
    public int PhotoConcurrency { get; set; } = 4;
    public int SetupConcurrency { get; set; } = 16;
    /// <summary>Fresh learners prepared for the identity photo scenario (0: enough for about 150 photos/s).</summary>
    public int PhotoPool { get; set; }
    public bool Pin { get; set; } = true;
    /// <summary>Setup (learners verified and started) with the servers on every core, re-pinned before the first scenario.</summary>
    public bool SetupUnpinned { get; set; }
    /// <summary>Folder for a heap snapshot of the session process with every exam-day stream open (dotnet-gcdump).</summary>
    public string? GcDump { get; set; }
    public bool Smoke { get; set; }
    public string? Output { get; set; }
    public int Seed { get; set; } = Environment.TickCount;
    public string? Only { get; set; }
    /// <summary>Extra environment for every server process (services, gateways, echo server): runtime knobs to compare.</summary>
    public Dictionary<string, string> ServerEnv { get; } = [];

    /// <summary>Whether <c>--only</c> selects the scenario <paramref name="name"/> (every scenario without it).</summary>
    public bool Selects(string name) =>
        Only is null || Only.Split(',', StringSplitOptions.RemoveEmptyEntries).Any(p => name.StartsWith(p, StringComparison.Ordinal));

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        if (args.Contains("--smoke"))
        {
            o.Smoke = true;
            o.Learners = 20;
            o.DurationSeconds = 5;
            o.HeartbeatSeconds = 1;
            o.SaveEverySeconds = 2;
            o.Rounds = 1;
            o.RoundSeconds = 0.5;
            // Long enough for the first replies of a cold path (a fresh process, its first connections): one CI run
            // had the first session scenario answer nothing inside a 0.25 s warm-up + 0.5 s window.
            o.WarmupSeconds = 1;
            // Fresh learners for the photo scenario: at the photo check's rate (about 50/s on one core) the warm-up and
            // the window take about 75; 20 ran out once the check got faster.
            o.PhotoPool = 150;
            o.SaturateStreams = 8;
            o.SaveRate = 100;
            o.LatencyStreams = 8;
            o.Decisions = 20;
            o.LoopbackAddresses = 2;
        }
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double D() => double.Parse(Next(), CultureInfo.InvariantCulture);
            int I() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "run": case "--smoke": break;
                case "--learners": o.Learners = I(); break;
                case "--duration": o.DurationSeconds = D(); break;
                case "--heartbeat": o.HeartbeatSeconds = D(); break;
                case "--save-every": o.SaveEverySeconds = D(); break;
                case "--client-processes": o.ClientProcesses = I(); break;
                case "--gateways": o.Gateways = I(); break;
                case "--loopback-addresses": o.LoopbackAddresses = I(); break;
                case "--rounds": o.Rounds = I(); break;
                case "--round-seconds": o.RoundSeconds = D(); break;
                case "--warmup": o.WarmupSeconds = D(); break;
                case "--saturate-streams": o.SaturateStreams = I(); break;
                case "--saturate-depth": o.SaturateDepth = I(); break;
                case "--save-rate": o.SaveRate = D(); break;
                case "--latency-streams": o.LatencyStreams = I(); break;
                case "--direct-connections": o.DirectConnections = I(); break;
                case "--decisions": o.Decisions = I(); break;
                case "--photo-concurrency": o.PhotoConcurrency = I(); break;
                case "--setup-concurrency": o.SetupConcurrency = I(); break;
                case "--photo-pool": o.PhotoPool = I(); break;
                case "--no-pin": o.Pin = false; break;
                case "--setup-unpinned": o.SetupUnpinned = true; break;
                case "--gcdump": o.GcDump = Next(); break;
                case "--out": o.Output = Next(); break;
                case "--seed": o.Seed = I(); break;
                case "--only": o.Only = Next(); break;
                case "--server-env":
                    var kv = Next().Split('=', 2);
                    if (kv.Length != 2 || kv[0].Length == 0) throw new ArgumentException("--server-env takes NAME=VALUE");
                    o.ServerEnv[kv[0]] = kv[1];
                    break;
                default: throw new ArgumentException($"Unknown flag {args[i]}. See bench/run.sh --help.");
            }
        }
        // At most 20,000 open files per process here: about 8,000 learners per client process and 10,000 per gateway.
        if (o.ClientProcesses <= 0) o.ClientProcesses = Math.Max(1, (int)Math.Ceiling(o.Learners / 8000.0));
        if (o.Gateways <= 0) o.Gateways = Math.Max(1, (int)Math.Ceiling(o.Learners / 10000.0));
        o.LoopbackAddresses = Math.Clamp(o.LoopbackAddresses, 1, 250);
        return o;
    }

    public const string Help = """
        Vigil.Bench run [flags]
          --smoke                 tiny sizes (20 learners, 10 s, 1 round of 1 s): proves the harness works
          --learners N            exam-day learners held through the gateways (default 2000)
          --duration S            exam-day hold, seconds (default 60)
          --heartbeat S           heartbeat interval per learner (default 5)
          --save-every S          answer save interval per learner (default 30)
          --client-processes N    load processes (default: one per 8,000 learners; 20,000 open files per process here)
          --gateways N            gateway processes (default: one per 10,000 learners)
          --loopback-addresses N  client source addresses 127.0.0.1..N (default 8)
          --rounds N              interleaved rounds of ceilings and scenarios, shuffled (default 3)
          --round-seconds S       measured seconds per scenario per round (default 5)
          --saturate-streams N    streams in the message-rate scenarios (default 64)
          --save-rate R           fixed arrival rate of the save-latency scenarios, saves/s (default 5000)
          --latency-streams N     streams that rate is spread over (default 1000, at most the learners)
          --photo-pool N          fresh learners for the identity photo scenario (default: enough for 150 photos/s)
          --decisions N           board decisions in the decision-to-dashboard burst (default 2000)
          --no-pin                do not pin load to core 0 and servers to core 1
          --setup-unpinned        let the servers use every core during the setup (learners verified and started:
                                  two photo checks each), then pin them back before anything is measured; for
                                  large runs, whose setup is the slowest part
          --out FILE              JSON results (default bench/results/latest.json)
          --server-env NAME=VALUE extra environment for every server process, echo included (repeatable), e.g.
                                  DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1, to compare runtime settings
          --gcdump DIR            heap snapshot of the session process once every exam-day stream is open, before
                                  the window (dotnet-gcdump must be installed as a global tool), and its report
          --only LIST             comma-separated scenario prefixes (e.g. echo,session,redis; exam-day; board,
                                  which runs the exam day too, for its submitted sessions)
        """;
}
