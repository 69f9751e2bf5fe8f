using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
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

    public async Task CreateExamAsync(GrpcChannel session)
    {
        var client = new ExamService.ExamServiceClient(session);
        var exam = new Exam
        {
            CourseId = Course,
            Title = "Benchmark exam " + runId,
            Instructions = "Answer every question.",
            PassMark = 5,
            TimeLimit = Duration.FromTimeSpan(TimeSpan.FromHours(4)),
            WindowOpensAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(-1)),
            WindowClosesAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1)),
            Rules = new ExamRules { HeadphonesAllowed = false, PenAndPaperAllowed = true },
            HeartbeatInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)),
            ConnectionLostAfter = Duration.FromTimeSpan(TimeSpan.FromMinutes(2)),
            DeadlinePolicy = DeadlinePolicy.SubmitSaved,
            WarnBeforeDeadline = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)),
        };
        foreach (var q in QuestionIds)
        {
            exam.Questions.Add(new Question
            {
                QuestionId = q,
                Kind = QuestionKind.SingleChoice,
                Prompt = "Which option is right for " + q + "?",
                Points = 1,
                Options = { new ChoiceOption { OptionId = "o1", Text = "one" }, new ChoiceOption { OptionId = "o2", Text = "two" }, new ChoiceOption { OptionId = "o3", Text = "three" }, new ChoiceOption { OptionId = "o4", Text = "four" } },
                AnswerKey = new AnswerKey { CorrectOptionIds = { "o2" } },
            });
        }
        var response = await client.CreateExamAsync(new CreateExamRequest { RequestId = "bench-" + runId, Exam = exam },
            new Metadata { { "authorization", "Bearer " + TestTokens.Staff("bench-staff", Course) } });
        ExamId = response.Exam.ExamId;
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
        using var gate = new SemaphoreSlim(concurrency);
        var watch = Stopwatch.StartNew();
        var done = 0;
        await Task.WhenAll(Enumerable.Range(from, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var p = await PrepareOneAsync(gateway, i);
                if (p is not null) result.Add(p);
                var d = Interlocked.Increment(ref done);
                if (d % 500 == 0) log($"  setup: {d}/{count} learners ({watch.Elapsed.TotalSeconds:F0} s)");
            }
            finally { gate.Release(); }
        }));
        PhotoSeconds += watch.Elapsed.TotalSeconds;
        return [.. result.OrderBy(p => p.LearnerId, StringComparer.Ordinal)];
    }

    private async Task<PreparedLearner?> PrepareOneAsync(GrpcChannel gateway, int i)
    {
        var learnerId = $"bl-{runId}-{i:D6}";
        var token = TestTokens.Learner(learnerId, $"Bench Learner {i}");
        var auth = new Metadata { { "authorization", "Bearer " + token } };
        var identity = new IdentityService.IdentityServiceClient(gateway);
        string step = "register";
        try
        {
            try
            {
                await identity.RegisterLearnerAsync(new RegisterLearnerRequest { RequestId = "r-" + learnerId, Email = $"bench.{runId}.{i}@example.org", DisplayName = $"Bench Learner {i}" }, auth);
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.AlreadyExists or StatusCode.Unimplemented) { }
            step = "system check";
            await identity.CompleteVerificationStepAsync(new CompleteVerificationStepRequest { RequestId = "s-" + learnerId, ExamId = ExamId, Step = VerificationStep.SystemCheck, Passed = true, Details = "bench" }, auth);
            step = "microphone test";
            await identity.CompleteVerificationStepAsync(new CompleteVerificationStepRequest { RequestId = "m-" + learnerId, ExamId = ExamId, Step = VerificationStep.MicrophoneTest, Passed = true, Details = "bench" }, auth);
            step = "ID photo";
            if (!await UploadAsync(identity, auth, "i-" + learnerId, ExamId, PhotoKind.IdDocument, IdPhoto.Value, PhotoLatency)) return null;
            step = "face photo";
            if (!await UploadAsync(identity, auth, "f-" + learnerId, ExamId, PhotoKind.Face, FacePhoto.Value, PhotoLatency)) return null;
            step = "start";
            var sessions = new SessionService.SessionServiceClient(gateway);
            var started = await sessions.StartSessionAsync(new StartSessionRequest { RequestId = "st-" + learnerId, ExamId = ExamId }, auth);
            return new PreparedLearner(learnerId, token, started.Session.SessionId);
        }
        catch (RpcException ex)
        {
            Error(step, ex);
            return null;
        }
    }

    /// <summary>Uploads a photo (metadata, then 64 KiB chunks); true when accepted.</summary>
    public async Task<bool> UploadAsync(IdentityService.IdentityServiceClient identity, Metadata auth, string requestId, string examId, PhotoKind kind, byte[] photo, Latency latency)
    {
        var start = Stopwatch.GetTimestamp();
        using var call = identity.UploadPhoto(auth);
        await call.RequestStream.WriteAsync(new UploadPhotoRequest { Metadata = new PhotoMetadata { RequestId = requestId, ExamId = examId, Kind = kind, DeclaredSize = photo.Length } });
        for (var offset = 0; offset < photo.Length; offset += 65536)
        {
            await call.RequestStream.WriteAsync(new UploadPhotoRequest { Chunk = ByteString.CopyFrom(photo, offset, Math.Min(65536, photo.Length - offset)) });
        }
        await call.RequestStream.CompleteAsync();
        var response = await call.ResponseAsync;
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
