using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using StackExchange.Redis;
using Vigil.Bench.Measure;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.Bench.Review;

/// <summary>
/// <c>Vigil.Bench review-paging [--sessions 20000] [--small 200] [--page-size 50] [--workstation-gc]</c> (with <c>VIGIL_REDIS</c> and
/// <c>VIGIL_RABBITMQ</c> set, e.g. from scripts/deps.sh): the exam board's review list at exam-day size. Writes the
/// finished sessions of two courses (a small one and a big one) in the session store's documented layout
/// (docs/session.md: the session hash and the review index; writing them through the service would cost a photo
/// verification per learner and measure that instead), starts the real session service as a process, pages through
/// each course's list as a board member over gRPC (all, then awaiting a decision), and prints per-page latency and
/// the service's resident memory before and during the paging. Flat means: the big course's pages cost what the
/// small one's do, and the memory does not grow with the course.
/// </summary>
internal static class ReviewPaging
{
    public static async Task<int> RunAsync(int big, int small, int pageSize, bool workstationGc)
    {
        var prefix = $"bench-review-{Guid.NewGuid():N}"[..21] + ":";

        using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        var db = redis.GetDatabase();
        var smallCourse = "course-small-" + Guid.NewGuid().ToString("N")[..6];
        var bigCourse = "course-big-" + Guid.NewGuid().ToString("N")[..6];
        var seed = Stopwatch.StartNew();
        await SeedAsync(db, prefix, smallCourse, small);
        await SeedAsync(db, prefix, bigCourse, big);
        Console.WriteLine($"review-paging: wrote {small} + {big} finished sessions in {seed.Elapsed.TotalSeconds:0.0} s (prefix {prefix})");

        await using var stack = await ProcessStack.StartAsync(new ProcessStackOptions
        {
            RabbitMqUri = TestEnvironment.RabbitMq("bench"),
            Certificate = false,
            Gateways = [],
            // --workstation-gc: the session process on the workstation GC, whose heap does not grow to server-GC budgets,
            // so that its resident memory shows what the paging keeps rather than how large the GC lets gen0 get.
            SessionSettings = new Dictionary<string, string?> { ["Redis:KeyPrefix"] = prefix, ["DOTNET_gcServer"] = workstationGc ? "0" : null },
        });
        var pid = stack.Session.Pid;
        using var channel = TestChannel.ToProcess(stack.SessionAddress(0), null);

        var results = new List<PagingResult>();
        // The small course first, twice (the first pass warms the service up), then the big one, then the small one again.
        foreach (var (course, size, label) in new[] { (smallCourse, small, "warm-up"), (smallCourse, small, "small"), (bigCourse, big, "big"), (bigCourse, big, "big again"), (smallCourse, small, "small again") })
        {
            var board = new ExamBoardService.ExamBoardServiceClient(TestChannel.As(channel, TestTokens.Board("bench-board", course)));
            foreach (var filter in new[] { ReviewFilter.Unspecified, ReviewFilter.AwaitingDecision })
            {
                results.Add(await PageAsync(board, course, size, label, filter, pageSize, pid));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"{"course",-12} {"filter",-18} {"sessions",9} {"listed",9} {"pages",6} {"p50 ms",8} {"p99 ms",8} {"max ms",8} {"RSS before",11} {"RSS peak",9}");
        foreach (var r in results)
        {
            Console.WriteLine($"{r.Label,-12} {r.Filter,-18} {r.Sessions,9} {r.Listed,9} {r.Pages,6} {r.P50Ms,8:0.0} {r.P99Ms,8:0.0} {r.MaxMs,8:0.0} {r.RssBeforeMb,9:0.0}MB {r.RssPeakMb,7:0.0}MB");
        }
        var ok = results.All(r => r.Listed == r.Sessions);
        Directory.CreateDirectory("bench/results");
        await File.WriteAllTextAsync("bench/results/review-paging.json", JsonSerializer.Serialize(new { pageSize, results, ok }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine(ok ? "every session listed exactly once in every pass" : "MISSING OR EXTRA SESSIONS: see the table");
        return ok ? 0 : 1;
    }

    private sealed record PagingResult(string Label, string Filter, int Sessions, int Listed, int Pages, double P50Ms, double P99Ms, double MaxMs, double RssBeforeMb, double RssPeakMb);

    private static async Task<PagingResult> PageAsync(ExamBoardService.ExamBoardServiceClient board, string course, int size, string label, ReviewFilter filter, int pageSize, int pid)
    {
        var rssBefore = ProcStats.RssBytes(pid);
        var peak = rssBefore;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ProcStats.RssBytes(pid));
                try { await Task.Delay(20, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var latencies = new List<double>();
        var token = string.Empty;
        var pages = 0;
        var duplicates = 0;
        do
        {
            var watch = Stopwatch.StartNew();
            var page = await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, Filter = filter, PageSize = pageSize, PageToken = token });
            latencies.Add(watch.Elapsed.TotalMilliseconds);
            pages++;
            foreach (var s in page.Sessions) if (!seen.Add(s.Session.SessionId)) duplicates++;
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        await sampling.CancelAsync();
        await sampler;
        latencies.Sort();
        double Pct(double p) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];
        return new PagingResult(label, filter.ToString(), size, seen.Count - duplicates, pages, Math.Round(Pct(0.5), 2), Math.Round(Pct(0.99), 2),
            Math.Round(latencies[^1], 2), Math.Round(rssBefore / 1048576.0, 1), Math.Round(peak / 1048576.0, 1));
    }

    /// <summary>Finished, undecided sessions of one course in the store's layout (docs/session.md), with their review index entries.</summary>
    private static async Task SeedAsync(IDatabase db, string prefix, string courseId, int count)
    {
        var now = DateTimeOffset.UtcNow;
        var exam = ExamBuilder.Standard(courseId, now.AddHours(-2));
        exam.ExamId = "exam-" + courseId;
        exam.Version = 1;
        var examBytes = exam.ToByteArray();
        var pending = new List<Task>();
        for (var i = 0; i < count; i++)
        {
            var sid = $"ses-{courseId}-{i:D6}";
            var started = now.AddHours(-1).AddMilliseconds(i);
            var finished = started.AddMinutes(20);
            var ms = finished.ToUnixTimeMilliseconds();
            pending.Add(db.HashSetAsync($"{prefix}s:{{{sid}}}",
            [
                new("exam_id", exam.ExamId), new("course_id", courseId), new("learner_id", $"learner-{courseId}-{i}"), new("learner_name", $"Learner {i}"),
                new("learner_email", $"learner{i}@example.org"), new("state", (int)SessionState.Submitted), new("started_at", started.ToUnixTimeMilliseconds()),
                new("deadline", started.AddMinutes(30).ToUnixTimeMilliseconds()), new("gap_ms", 30000), new("exam_ms", 1800000), new("last_acked", 3), new("rev", 3),
                new("exam", examBytes), new("id_photo", 1), new("face_photo", 1), new("start_request", "bench-" + i), new("decision_version", 0),
                new("finished_at", ms), new("submitted_at", ms), new("score", 3), new("max_score", 4),
            ]));
            var member = ms.ToString("D13", CultureInfo.InvariantCulture) + "|" + sid;
            pending.Add(db.SortedSetAddAsync($"{prefix}course:{{{courseId}}}:review:all", member, 0));
            pending.Add(db.SortedSetAddAsync($"{prefix}course:{{{courseId}}}:review:awaiting", member, 0));
            if (pending.Count >= 3000)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }
        await Task.WhenAll(pending);
    }
}
