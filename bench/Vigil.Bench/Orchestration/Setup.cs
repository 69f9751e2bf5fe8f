using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Vigil.Bench.Load;
using Vigil.Bench.Measure;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;
using Vigil.Testing.Images;

namespace Vigil.Bench.Orchestration;

/// <summary>A learner ready for the exam: verified through the real RPCs, session started.</summary>
internal sealed record PreparedLearner(string LearnerId, string Token, string SessionId);

/// <summary>
/// Gets learners into sessions the way they get there on an exam day, through the gateway and the real RPCs:
/// register, system check, microphone test, ID-document photo, face photo, StartSession. No backdoor: the
/// photo step costs what it costs (the same test photos' bytes are reused), and it is timed as the photo
/// burst of an exam's start.
/// </summary>
internal sealed class Setup(string runId, Action<string> log)
{
    public const string Course = "bench-course";
    public static readonly string[] QuestionIds = [.. Enumerable.Range(1, 10).Select(i => "q" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
    private static readonly Lazy<byte[]> IdPhoto = new(() => TestImages.IdDocumentJpeg(1));
    private static readonly Lazy<byte[]> FacePhoto = new(() => TestImages.FaceJpeg(1));

    public string ExamId { get; private set; } = "";
    public Latency PhotoLatency { get; } = new();
    public long PhotosAccepted;
    public long PhotosRejected;
    public double PhotoSeconds;
    public readonly ConcurrentDictionary<string, int> Errors = new();

    public static byte[] IdPhotoBytes => IdPhoto.Value;

    /// <summary>The bench's exam; its heartbeat interval is the one the exam day's learners keep, as a client
    /// keeps the exam's (the server's pace starts from it and only widens under load).</summary>
    public async Task CreateExamAsync(GrpcChannel session, TimeSpan heartbeatInterval)
    {
        var exam = new ExamBuilder(Course)
            .Titled("Benchmark exam " + runId, "Answer every question.")
            .TimeLimit(TimeSpan.FromHours(4))
            .PassMark(5)
            .With(e =>
            {
                e.WindowClosesAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1));
                e.Rules = new ExamRules { HeadphonesAllowed = false, PenAndPaperAllowed = true };
                e.HeartbeatInterval = Duration.FromTimeSpan(heartbeatInterval);
                e.ConnectionLostAfter = Duration.FromTimeSpan(TimeSpan.FromMinutes(2));
                e.DeadlinePolicy = DeadlinePolicy.SubmitSaved;
                e.WarnBeforeDeadline = Duration.FromTimeSpan(TimeSpan.FromMinutes(5));
            });
        foreach (var q in QuestionIds) exam.SingleChoice(q, "Which option is right for " + q + "?", ["o1", "o2", "o3", "o4"], correct: "o2");
        using var journey = new Journey(session);
        ExamId = (await journey.CreateExamAsync(exam.Build())).ExamId;
    }

    private void Error(string what, Exception ex)
    {
        var key = ex is RpcException r ? $"{what}: {r.StatusCode} {r.Status.Detail}" : $"{what}: {ex.GetType().Name} {ex.Message}";
        if (Errors.Count < 30 || Errors.ContainsKey(key)) Errors.AddOrUpdate(key, 1, (_, c) => c + 1);
    }

    /// <summary>Prepares learners [from, from+count) through the gateway.</summary>
    public async Task<List<PreparedLearner>> PrepareAsync(GrpcChannel gateway, int from, int count, int concurrency)
    {
        var result = new ConcurrentBag<PreparedLearner>();
        using var journey = new Journey(gateway);
        using var gate = new SemaphoreSlim(concurrency);
        var watch = Stopwatch.StartNew();
        var done = 0;
        await Task.WhenAll(Enumerable.Range(from, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var p = await PrepareOneAsync(journey, i);
                if (p is not null) result.Add(p);
                var d = Interlocked.Increment(ref done);
                if (d % 500 == 0) log($"  setup: {d}/{count} learners ({watch.Elapsed.TotalSeconds:F0} s)");
            }
            finally { gate.Release(); }
        }));
        PhotoSeconds += watch.Elapsed.TotalSeconds;
        return [.. result.OrderBy(p => p.LearnerId, StringComparer.Ordinal)];
    }

    private async Task<PreparedLearner?> PrepareOneAsync(Journey journey, int i)
    {
        var learner = new TestLearner($"bl-{runId}-{i:D6}", $"Bench Learner {i}", TestTokens.Learner($"bl-{runId}-{i:D6}", $"Bench Learner {i}"), journey);
        string step = "register";
        try
        {
            try
            {
                await learner.Identity().RegisterLearnerAsync(new RegisterLearnerRequest { RequestId = "r-" + learner.Id, Email = $"bench.{runId}.{i}@example.org", DisplayName = learner.Name });
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.AlreadyExists or StatusCode.Unimplemented) { }
            step = "system check and microphone test";
            await journey.CompleteChecksAsync(learner, ExamId);
            step = "ID photo";
            if (!await UploadAsync(learner, ExamId, PhotoKind.IdDocument, IdPhoto.Value, PhotoLatency)) return null;
            step = "face photo";
            if (!await UploadAsync(learner, ExamId, PhotoKind.Face, FacePhoto.Value, PhotoLatency)) return null;
            step = "start";
            var session = await learner.StartAsync(ExamId);
            return new PreparedLearner(learner.Id, learner.Token, session.SessionId);
        }
        catch (RpcException ex)
        {
            Error(step, ex);
            return null;
        }
    }

    /// <summary>Uploads a photo (the kit's upload, 64 KiB chunks), timed; true when accepted.</summary>
    public async Task<bool> UploadAsync(TestLearner learner, string examId, PhotoKind kind, byte[] photo, Latency latency)
    {
        var start = Stopwatch.GetTimestamp();
        var response = await TestVerification.UploadAsync(learner.Identity(), examId, kind, photo, chunkSize: 65536);
        latency.RecordTicks(Stopwatch.GetTimestamp() - start);
        if (response.Verdict == PhotoVerdict.Accepted)
        {
            Interlocked.Increment(ref PhotosAccepted);
            return true;
        }
        Interlocked.Increment(ref PhotosRejected);
        var problems = string.Join(",", response.Problems.Select(p => p.Code.ToString()));
        Errors.AddOrUpdate($"{kind} photo rejected: {problems} {response.Message}", 1, (_, c) => c + 1);
        return false;
    }

    public static List<StreamTarget> Targets(IEnumerable<PreparedLearner> learners, Func<int, string> address) =>
        [.. learners.Select((l, i) => new StreamTarget { Address = address(i), Token = l.Token, SessionId = l.SessionId })];
}
