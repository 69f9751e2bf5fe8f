namespace Vigil.Bench.Orchestration;

/// <summary>The orchestrator's settings (its flags: <see cref="BenchCommandLine"/>). Defaults: a full run of a few thousand streams for about a minute.</summary>
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
    /// <summary>
    /// The reconnect storm: this many seconds into the exam day's window the session process is SIGKILLed and started
    /// again on its ports; every learner resumes through the gateways (none: a plain exam day, where a lost stream counts as dropped).
    /// </summary>
    public double? StormAtSeconds { get; set; }
    /// <summary>With the storm: how long after the hold the learners still reconnecting are waited for before they count as never resumed.</summary>
    public double ResumeGraceSeconds { get; set; } = 120;
    /// <summary>
    /// Ramp mode: exam days of these sizes (learners, ascending), each held <see cref="RampHoldSeconds"/>, before the exam day;
    /// it stops at the first size not held and reports the largest held.
    /// </summary>
    public List<int> Ramp { get; set; } = [];
    public double RampHoldSeconds { get; set; } = 60;
    /// <summary>
    /// Session runtime variants (GC settings and the like), each a fresh, warmed session process with that environment
    /// holding the exam day's learners for <see cref="VariantHoldSeconds"/>, compared in one run on the same learners.
    /// </summary>
    public List<SessionVariant> Variants { get; set; } = [];
    public double VariantHoldSeconds { get; set; } = 60;
    /// <summary>With <see cref="StormAtSeconds"/>: the variants that take the reconnect storm (none given: every variant).</summary>
    public List<string> StormVariants { get; set; } = [];

    /// <summary>Whether the variant named <paramref name="name"/> takes the reconnect storm.</summary>
    public bool Storms(string name) => StormAtSeconds is not null && (StormVariants.Count == 0 || StormVariants.Contains(name, StringComparer.Ordinal));
    public string? Output { get; set; }
    public int Seed { get; set; } = Environment.TickCount;
    public string? Only { get; set; }
    /// <summary>Extra environment for every server process (services, gateways, echo server): runtime knobs to compare.</summary>
    public Dictionary<string, string> ServerEnv { get; } = [];

    /// <summary>Whether <c>--only</c> selects the scenario <paramref name="name"/> (every scenario without it).</summary>
    public bool Selects(string name) =>
        Only is null || Only.Split(',', StringSplitOptions.RemoveEmptyEntries).Any(p => name.StartsWith(p, StringComparison.Ordinal));

    /// <summary>The smoke sizes: tiny, to prove the harness works end to end (flags given beside --smoke still win).</summary>
    public void ApplySmoke()
    {
        Smoke = true;
        Learners = 20;
        DurationSeconds = 5;
        HeartbeatSeconds = 1;
        SaveEverySeconds = 2;
        Rounds = 1;
        RoundSeconds = 0.5;
        // Long enough for the first replies of a cold path (a fresh process, its first connections): one CI run
        // had the first session scenario answer nothing inside a 0.25 s warm-up + 0.5 s window.
        WarmupSeconds = 1;
        // Fresh learners for the photo scenario: at the photo check's rate (about 50/s on one core) the warm-up and
        // the window take about 75; 20 ran out once the check got faster.
        PhotoPool = 150;
        SaturateStreams = 8;
        SaveRate = 100;
        LatencyStreams = 8;
        Decisions = 20;
        LoopbackAddresses = 2;
    }

    /// <summary>What follows from the sizes: load processes and gateways within this machine's open-file limit.</summary>
    public void Complete()
    {
        // At most 20,000 open files per process here: about 8,000 learners per client process and 10,000 per gateway.
        if (ClientProcesses <= 0) ClientProcesses = Math.Max(1, (int)Math.Ceiling(Learners / 8000.0));
        if (Gateways <= 0) Gateways = Math.Max(1, (int)Math.Ceiling(Learners / 10000.0));
        LoopbackAddresses = Math.Clamp(LoopbackAddresses, 1, 250);
    }
}

/// <summary>A named set of environment variables for the session process ("name:K=V,K=V"; "name:" is the run's own settings).</summary>
internal sealed record SessionVariant(string Name, IReadOnlyDictionary<string, string> Environment)
{
    public static SessionVariant? Parse(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0) return null;
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) return null;
            env[pair[..eq]] = pair[(eq + 1)..];
        }
        return new SessionVariant(text[..colon], env);
    }

    public override string ToString() => Environment.Count == 0 ? Name + " (the run's settings)" : $"{Name} ({string.Join(", ", Environment.Select(kv => kv.Key + "=" + kv.Value))})";
}
