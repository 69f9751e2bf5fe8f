using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;
using Google.Protobuf;
using Vigil.Testing.Images;

namespace Vigil.Faults.Tests.Infrastructure;

/// <summary>A learner's started session of an exam of numeric questions n0..n(k-1) whose right answer is i.</summary>
public sealed record Learner(string Id, string Token, string CourseId, Exam Exam, string SessionId);

/// <summary>The steps of an exam as the real RPCs, through the gateway unless told otherwise.</summary>
public sealed class Journey(FaultStack stack) : IDisposable
{
    private readonly List<GrpcChannel> _channels = [];

    public static string Id(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    public static string RequestId() => Guid.NewGuid().ToString("N");

    public GrpcChannel Channel(string? token, Uri? direct)
    {
        var channel = direct is null ? stack.Channel(token) : FaultStack.Channel(direct, token);
        lock (_channels) _channels.Add(channel);
        return channel;
    }

    public GrpcChannel Channel(string? token) => Channel(token, null);

    public IdentityService.IdentityServiceClient Identity(string? token) => new(Channel(token));
    public SessionService.SessionServiceClient Sessions(string? token, Uri? direct = null) => new(Channel(token, direct));
    public ExamService.ExamServiceClient Exams(string? token) => new(Channel(token));
    public ExamBoardService.ExamBoardServiceClient Board(string? token) => new(Channel(token));
    public DashboardService.DashboardServiceClient Dashboard(string? token) => new(Channel(token));

    /// <summary>An exam of <paramref name="questions"/> numeric questions of a course, open now, with a 30-minute limit.</summary>
    public async Task<Exam> ExamAsync(string courseId, int questions)
    {
        var now = DateTime.UtcNow;
        var exam = new Exam
        {
            CourseId = courseId,
            Title = "Fault drill",
            Instructions = "Answer each question with its number.",
            PassMark = 1,
            TimeLimit = Duration.FromTimeSpan(TimeSpan.FromMinutes(30)),
            WindowOpensAt = Timestamp.FromDateTime(now.AddMinutes(-5)),
            WindowClosesAt = Timestamp.FromDateTime(now.AddHours(2)),
        };
        for (var i = 0; i < questions; i++)
        {
            exam.Questions.Add(new Question
            {
                QuestionId = $"n{i}", Kind = QuestionKind.Numeric, Points = 1, Prompt = $"Write {i}.",
                AnswerKey = new AnswerKey { NumericValue = i },
            });
        }
        var staff = TestTokens.Staff(Id("staff"), courseId);
        return (await Exams(staff).CreateExamAsync(new CreateExamRequest { RequestId = RequestId(), Exam = exam })).Exam;
    }

    /// <summary>A registered, verified learner with a started session of <paramref name="exam"/>.</summary>
    public async Task<Learner> StartedAsync(Exam exam, int seed = 0)
    {
        var id = Id("learner");
        var token = TestTokens.Learner(id, "Ada Lovelace");
        var identity = Identity(token);
        await identity.RegisterLearnerAsync(new RegisterLearnerRequest { RequestId = RequestId(), Email = $"{id}@example.org", DisplayName = "Ada Lovelace" });
        await VerifyAsync(identity, exam.ExamId, seed);
        var started = await Sessions(token).StartSessionAsync(new StartSessionRequest { RequestId = RequestId(), ExamId = exam.ExamId });
        return new Learner(id, token, exam.CourseId, exam, started.Session.SessionId);
    }

    /// <summary>The verification phase: system check, microphone test, ID-document and face photos (the test photos).</summary>
    public static async Task VerifyAsync(IdentityService.IdentityServiceClient identity, string examId, int seed = 0)
    {
        foreach (var step in new[] { VerificationStep.SystemCheck, VerificationStep.MicrophoneTest })
        {
            await identity.CompleteVerificationStepAsync(new CompleteVerificationStepRequest { RequestId = RequestId(), ExamId = examId, Step = step, Passed = true, Details = "fault drill" });
        }
        foreach (var (kind, bytes) in new[] { (PhotoKind.IdDocument, TestImages.IdDocumentJpeg(seed)), (PhotoKind.Face, TestImages.FaceJpeg(seed)) })
        {
            var reply = await UploadAsync(identity, examId, kind, bytes);
            if (reply.Verdict != PhotoVerdict.Accepted) throw new InvalidOperationException($"{kind} photo refused: {reply.Message}");
        }
    }

    /// <summary>Uploads a photo: metadata, then chunks; a server that answers early is read from the response.</summary>
    public static async Task<UploadPhotoResponse> UploadAsync(IdentityService.IdentityServiceClient identity, string examId, PhotoKind kind, byte[] data, int chunkSize = 128 * 1024, long? declaredSize = null, CancellationToken cancellationToken = default)
    {
        using var call = identity.UploadPhoto(cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(new UploadPhotoRequest
        {
            Metadata = new PhotoMetadata { RequestId = RequestId(), ExamId = examId, Kind = kind, DeclaredSize = declaredSize ?? data.Length },
        }, cancellationToken);
        try
        {
            for (var offset = 0; offset < data.Length; offset += chunkSize)
            {
                await call.RequestStream.WriteAsync(new UploadPhotoRequest { Chunk = ByteString.CopyFrom(data, offset, Math.Min(chunkSize, data.Length - offset)) }, cancellationToken);
            }
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // The server answered early: its status is in the response.
        }
        return await call.ResponseAsync;
    }

    /// <summary>Several learners of one new exam, started concurrently.</summary>
    public async Task<List<Learner>> StartedAsync(int learners, int questions)
    {
        var exam = await ExamAsync(Id("course"), questions);
        var all = await Task.WhenAll(Enumerable.Range(0, learners).Select(i => StartedAsync(exam, seed: i)));
        return [.. all];
    }

    /// <summary>Saves every answer right (n_i = i) on one stream and submits the final check; returns the receipt.</summary>
    public async Task<Receipt> AnswerAndSubmitAsync(Learner learner, string? requestId = null)
    {
        await using var stream = await ExamStream.OpenAsync(Sessions(learner.Token), learner.SessionId);
        var seq = stream.Opened.LastAckedSequence;
        foreach (var q in learner.Exam.Questions)
        {
            await stream.HeartbeatAsync();
            await stream.SaveAsync(++seq, q.QuestionId, new Answer { Number = double.Parse(q.QuestionId[1..], System.Globalization.CultureInfo.InvariantCulture) });
        }
        return (await Sessions(learner.Token).SubmitFinalCheckAsync(new SubmitFinalCheckRequest
        {
            RequestId = requestId ?? RequestId(), SessionId = learner.SessionId, LastSaveSequence = seq,
        })).Receipt;
    }

    /// <summary>The board of the learner's course records a decision; retried while the session is not reviewable yet.</summary>
    public async Task<BoardDecision> DecideAsync(Learner learner, DecisionOutcome outcome = DecisionOutcome.Valid)
    {
        var board = Board(TestTokens.Board(Id("board"), learner.CourseId));
        var requestId = RequestId();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return (await board.RecordDecisionAsync(new RecordDecisionRequest { RequestId = requestId, SessionId = learner.SessionId, Outcome = outcome })).Decision;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.Unavailable && DateTime.UtcNow < until)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>The learner's dashboard entry of the session, or null.</summary>
    public async Task<DashboardEntry?> EntryAsync(Learner learner)
    {
        var dashboard = await Dashboard(learner.Token).GetDashboardAsync(new GetDashboardRequest());
        return dashboard.Entries.FirstOrDefault(e => e.SessionId == learner.SessionId);
    }

    /// <summary>Polls until every learner's entry matches; returns how many matched.</summary>
    public async Task<int> AwaitEntriesAsync(IReadOnlyList<Learner> learners, Func<DashboardEntry, bool> match, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        var matched = 0;
        while (true)
        {
            matched = 0;
            foreach (var l in learners)
            {
                try
                {
                    if (await EntryAsync(l) is { } e && match(e)) matched++;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
                {
                    // The certificate service is (re)starting.
                }
            }
            if (matched == learners.Count || DateTime.UtcNow > until) return matched;
            await Task.Delay(300);
        }
    }

    public void Dispose()
    {
        lock (_channels) foreach (var c in _channels) c.Dispose();
    }
}
