using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using StackExchange.Redis;
using Vigil.Bench.Measure;

namespace Vigil.Bench.Ceilings;

/// <summary>
/// What group commit of saves would give, measured on the session's own save script (services/session's
/// Storage/Save.lua, embedded from its source file): saves of distinct sessions, 200-byte answers, to the same
/// Redis with the same <c>appendfsync always</c>, either one save per EVALSHA (what the session does: Redis
/// already puts the writes of one event-loop turn behind one fsync) or <see cref="RunAsync"/>'s <c>perCall</c>
/// saves per EVALSHA (what a group commit would send: the saves that arrived together, in one atomic durable
/// step). The same number of saves is in flight either way. Every reply must say "stored": anything else is an
/// error, so the scenario checks the script did the work. CPU per 1,000 saves of Redis comes from the server
/// sample; this process's CPU (the client side of StackExchange.Redis, what the session would save) is kept in
/// <see cref="RawRun.Extra"/>.
/// </summary>
internal static partial class SaveScriptCeiling
{
    private const int Questions = 20;

    /// <summary>One save per call: the save script as the session runs it (named parameters).</summary>
    private static readonly Lazy<LuaScript> One = new(() => LuaScript.Prepare(Source()));

    /// <summary>
    /// Several saves per call: the same script turned into a Lua function of its named parameters, called once per
    /// save with positional KEYS (3 per save) and ARGV (6 per save).
    /// </summary>
    private static readonly Lazy<string> Many = new(() =>
    {
        var (includes, body) = SplitIncludes();
        return includes
            + "local function save(session, answers, answerMeta, question, sequence, digest, answer, now, maxAhead)\n"
            + Parameter().Replace(body, m => m.Groups[1].Value) + "\nend\n"
            + "local out = {}\n"
            + "for i = 0, #KEYS / 3 - 1 do\n"
            + "  local k, a = i * 3, i * 6\n"
            + "  out[i + 1] = save(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6])\n"
            + "end\n"
            + "return out\n";
    });

    public static async Task<RawRun> RunAsync(IConnectionMultiplexer mux, int perCall, int savesInFlight, double warmup, double seconds)
    {
        var db = mux.GetDatabase();
        var sessions = Math.Max(savesInFlight, perCall) * 4;
        var run = Guid.NewGuid().ToString("N")[..8];
        var deadline = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds();
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(i => db.HashSetAsync(Key(run, i),
            [new("state", "1"), new("deadline", deadline), new("last_acked", 0), new("grace_ms", 0)])));
        var sequences = new long[sessions];
        long next = -1;
        var answer = new byte[200];
        Random.Shared.NextBytes(answer);
        var many = perCall > 1 ? await LoadAsync(mux, Many.Value) : [];

        var window = new CeilingWindow(warmup, seconds);
        double cpu0 = double.NaN, cpu1 = double.NaN;
        long windowSaves0 = 0, windowSaves1 = 0;
        var sampler = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(warmup));
            (cpu0, windowSaves0) = (ProcessCpuMs(), window.Done);
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            (cpu1, windowSaves1) = (ProcessCpuMs(), window.Done);
        });
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, savesInFlight / perCall)).Select(async _ =>
        {
            while (window.Open(out var started))
            {
                try
                {
                    string?[] outcomes = perCall == 1 ? [await SaveOneAsync()] : await SaveManyAsync();
                    var stored = outcomes.Count(o => o == "stored");
                    if (stored > 0) window.Completed(started, stored);
                    if (stored < perCall) window.Failed($"save: {outcomes.First(o => o != "stored")}", perCall - stored);
                }
                catch (RedisException ex)
                {
                    window.Failed(ex.Message, perCall);
                }
            }
        }));

        async Task<string?> SaveOneAsync()
        {
            var (s, q) = Next(sessions, sequences, ref next);
            var r = (RedisResult[])(await db.ScriptEvaluateAsync(One.Value, new
            {
                session = (RedisKey)Key(run, s), answers = (RedisKey)(Key(run, s) + ":answers"), answerMeta = (RedisKey)(Key(run, s) + ":meta"),
                question = $"q{q % Questions}", sequence = q, digest = $"d{q}", answer, now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), maxAhead = 1000,
            }))!;
            return (string?)r[0];
        }

        async Task<string?[]> SaveManyAsync()
        {
            var keys = new RedisKey[3 * perCall];
            var argv = new RedisValue[6 * perCall];
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            for (var j = 0; j < perCall; j++)
            {
                var (s, q) = Next(sessions, sequences, ref next);
                (keys[3 * j], keys[3 * j + 1], keys[3 * j + 2]) = (Key(run, s), Key(run, s) + ":answers", Key(run, s) + ":meta");
                (argv[6 * j], argv[6 * j + 1], argv[6 * j + 2], argv[6 * j + 3], argv[6 * j + 4], argv[6 * j + 5]) = ($"q{q % Questions}", q, $"d{q}", answer, now, 1000);
            }
            var replies = (RedisResult[])(await db.ScriptEvaluateAsync(many, keys, argv))!;
            return [.. replies.Select(r => (string?)((RedisResult[])r!)[0])];
        }
        await sampler;
        await db.ExecuteAsync("DEL", [.. Enumerable.Range(0, sessions).SelectMany(i => new object[] { Key(run, i), Key(run, i) + ":answers", Key(run, i) + ":meta" })]);
        var saves = windowSaves1 - windowSaves0;
        var extra = new Dictionary<string, double> { ["saves_per_call"] = perCall };
        if (saves > 0) extra["bench_cpu_ms_per_1k_saves"] = Math.Round((cpu1 - cpu0) / saves * 1000, 2);
        return window.Result() with { Extra = extra };
    }

    /// <summary>All saves in one slot: the ceiling runs on the standalone Redis (a batch over several slots needs one node).</summary>
    private static string Key(string run, int session) => $"bench:save:{{{run}}}:{session}";

    private static (int Session, long Sequence) Next(int sessions, long[] sequences, ref long next)
    {
        var s = (int)(Interlocked.Increment(ref next) % sessions);
        return (s, Interlocked.Increment(ref sequences[s]));
    }

    private static async Task<byte[]> LoadAsync(IConnectionMultiplexer mux, string script)
    {
        byte[] sha = [];
        foreach (var endpoint in mux.GetEndPoints()) sha = await mux.GetServer(endpoint).ScriptLoadAsync(script);
        return sha;
    }

    private static double ProcessCpuMs() => Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;

    /// <summary>Save.lua with its include lines replaced by the files they name (embedded beside it).</summary>
    private static string Source() => Include().Replace(Resource("Save.lua"), m => Resource(m.Groups[1].Value));

    /// <summary>The included helpers (top-level locals) and the script's own lines, apart: only the latter go into the function.</summary>
    private static (string Includes, string Body) SplitIncludes()
    {
        var raw = Resource("Save.lua");
        var includes = string.Concat(Include().Matches(raw).Select(m => Resource(m.Groups[1].Value) + "\n"));
        return (includes, Include().Replace(raw, ""));
    }

    private static string Resource(string file)
    {
        var asm = typeof(SaveScriptCeiling).Assembly;
        using var stream = asm.GetManifestResourceStream($"SessionScripts.{file}") ?? throw new InvalidOperationException($"The session's {file} is not embedded in the bench.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^-- include: (\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex Include();

    [GeneratedRegex(@"@(\w+)")]
    private static partial Regex Parameter();
}
