using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Vigil.Cli.Images;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>The steps of the journey, through the gateway, each as its own actor with its own token.</summary>
public sealed class Flow(VigilStack stack) : IDisposable
{
    private readonly List<GrpcChannel> _channels = [];

    public static string Id(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    public static string RequestId() => Guid.NewGuid().ToString("N");

    public GrpcChannel Channel(string? token)
    {
        var channel = stack.Channel(token);
        _channels.Add(channel);
        return channel;
    }

    public IdentityService.IdentityServiceClient Identity(string? token) => new(Channel(token));
    public SessionService.SessionServiceClient Sessions(string? token) => new(Channel(token));
    public ExamService.ExamServiceClient Exams(string? token) => new(Channel(token));
    public ExamBoardService.ExamBoardServiceClient Board(string? token) => new(Channel(token));
    public DashboardService.DashboardServiceClient Dashboard(string? token) => new(Channel(token));
    public CertificateVerificationService.CertificateVerificationServiceClient Verification(string? token = null) => new(Channel(token));

    /// <summary>A learner with a token and a registered, alias-free email.</summary>
    public async Task<(string Id, string Token)> RegisteredLearnerAsync(string name = "Grace Hopper")
    {
        var id = Id("learner");
        var token = TestTokens.Learner(id, name);
        await Identity(token).RegisterLearnerAsync(new RegisterLearnerRequest
        {
            RequestId = RequestId(), Email = $"{id}@example.org", DisplayName = name,
        });
        return (id, token);
    }

    /// <summary>An exam of a course, created by its staff, open now.</summary>
    public async Task<Exam> ExamAsync(string courseId)
    {
        var now = DateTime.UtcNow;
        var exam = new Exam
        {
            CourseId = courseId,
            Title = "Probability — final exam",
            Instructions = "Answer, then validate with the final check.",
            PassMark = 1,
            TimeLimit = Duration.FromTimeSpan(TimeSpan.FromMinutes(30)),
            WindowOpensAt = Timestamp.FromDateTime(now.AddMinutes(-5)),
            WindowClosesAt = Timestamp.FromDateTime(now.AddHours(2)),
            Questions =
            {
                new Question
                {
                    QuestionId = "q1", Kind = QuestionKind.SingleChoice, Points = 1, Prompt = "P(heads) for a fair coin?",
                    Options = { new ChoiceOption { OptionId = "half", Text = "1/2" }, new ChoiceOption { OptionId = "third", Text = "1/3" } },
                    AnswerKey = new AnswerKey { CorrectOptionIds = { "half" } },
                },
                new Question
                {
                    QuestionId = "q2", Kind = QuestionKind.Numeric, Points = 1, Prompt = "How many faces has a die?",
                    AnswerKey = new AnswerKey { NumericValue = 6 },
                },
            },
        };
        var staff = TestTokens.Staff(Id("staff"), courseId);
        var created = (await Exams(staff).CreateExamAsync(new CreateExamRequest { RequestId = RequestId(), Exam = exam })).Exam;
        try
        {
            await Identity(staff).ConfigureExamVerificationAsync(new ConfigureExamVerificationRequest
            {
                RequestId = RequestId(), ExamId = created.ExamId, CourseId = courseId,
            });
        }
        catch (RpcException)
        {
            // The session service configures the verification when it creates the exam; this is a second, harmless try.
        }
        return created;
    }

    public async Task CompleteStepAsync(string token, string examId, VerificationStep step) =>
        await Identity(token).CompleteVerificationStepAsync(new CompleteVerificationStepRequest
        {
            RequestId = RequestId(), ExamId = examId, Step = step, Passed = true, Details = "e2e",
        });

    public async Task<UploadPhotoResponse> UploadAsync(string token, string examId, PhotoKind kind, byte[] bytes)
    {
        using var call = Identity(token).UploadPhoto();
        await call.RequestStream.WriteAsync(new UploadPhotoRequest
        {
            Metadata = new PhotoMetadata { RequestId = RequestId(), ExamId = examId, Kind = kind, DeclaredSize = bytes.Length },
        });
        await call.RequestStream.WriteAsync(new UploadPhotoRequest { Chunk = ByteString.CopyFrom(bytes) });
        await call.RequestStream.CompleteAsync();
        return await call;
    }

    /// <summary>The whole verification phase with accepted photos.</summary>
    public async Task VerifyAsync(string token, string examId)
    {
        await CompleteStepAsync(token, examId, VerificationStep.SystemCheck);
        await CompleteStepAsync(token, examId, VerificationStep.MicrophoneTest);
        var id = await UploadAsync(token, examId, PhotoKind.IdDocument, SampleImages.IdDocument());
        Assert.True(id.Verdict == PhotoVerdict.Accepted, "ID photo: " + id.Message + string.Join("; ", id.Problems.Select(p => p.Message)));
        var face = await UploadAsync(token, examId, PhotoKind.Face, SampleImages.Face());
        Assert.True(face.Verdict == PhotoVerdict.Accepted, "Face photo: " + face.Message + string.Join("; ", face.Problems.Select(p => p.Message)));
    }

    /// <summary>Opens the stream, saves the answers, waits for every acknowledgement; returns the last acknowledged sequence.</summary>
    public async Task<long> SaveAnswersAsync(string token, string sessionId, params (string Question, Answer Answer)[] answers)
    {
        using var call = Sessions(token).StreamExam();
        await call.RequestStream.WriteAsync(new StreamExamRequest { Open = new OpenStream { SessionId = sessionId } });
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(StreamExamResponse.MessageOneofCase.Opened, call.ResponseStream.Current.MessageCase);
        var seq = call.ResponseStream.Current.Opened.LastAckedSequence;
        var last = seq;
        foreach (var (question, answer) in answers)
        {
            await call.RequestStream.WriteAsync(new StreamExamRequest
            {
                Heartbeat = new Heartbeat { Sequence = seq + 1, CameraOn = true, MicrophoneOn = true, ScreenShareOn = true, Focused = true, AudioOutput = AudioOutput.Speakers, ClientTime = Timestamp.FromDateTime(DateTime.UtcNow) },
            });
            await call.RequestStream.WriteAsync(new StreamExamRequest { Save = new AnswerSave { Sequence = ++seq, QuestionId = question, Answer = answer } });
            last = await AckAsync(call, seq);
        }
        await call.RequestStream.CompleteAsync();
        return last;
    }

    /// <summary>Reads the stream until the save's acknowledgement.</summary>
    public static async Task<long> AckAsync(AsyncDuplexStreamingCall<StreamExamRequest, StreamExamResponse> call, long sequence)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await call.ResponseStream.MoveNext(cts.Token))
        {
            var m = call.ResponseStream.Current;
            if (m.MessageCase == StreamExamResponse.MessageOneofCase.SaveAck && m.SaveAck.Sequence == sequence) return sequence;
            if (m.MessageCase == StreamExamResponse.MessageOneofCase.SaveRejected && m.SaveRejected.Sequence == sequence)
            {
                throw new InvalidOperationException($"Save {sequence} refused: {m.SaveRejected.Message}");
            }
        }
        throw new InvalidOperationException("The stream ended before the acknowledgement.");
    }

    /// <summary>A verified learner's submitted session of a new exam of the course.</summary>
    public async Task<Submitted> SubmittedSessionAsync(string courseId)
    {
        var (learnerId, token) = await RegisteredLearnerAsync();
        var exam = await ExamAsync(courseId);
        await VerifyAsync(token, exam.ExamId);
        var started = await Sessions(token).StartSessionAsync(new StartSessionRequest { RequestId = RequestId(), ExamId = exam.ExamId });
        var sessionId = started.Session.SessionId;
        var last = await SaveAnswersAsync(token, sessionId,
            ("q1", new Answer { Choice = new ChoiceAnswer { OptionIds = { "half" } } }),
            ("q2", new Answer { Number = 6 }));
        var receipt = (await Sessions(token).SubmitFinalCheckAsync(new SubmitFinalCheckRequest { RequestId = RequestId(), SessionId = sessionId, LastSaveSequence = last })).Receipt;
        return new Submitted(learnerId, token, exam, sessionId, receipt);
    }

    /// <summary>Waits until the board of the course sees the session in its list.</summary>
    public async Task AwaitReviewableAsync(string boardToken, string courseId, string sessionId)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var list = await Board(boardToken).ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = courseId });
            if (list.Sessions.Any(s => s.Session.SessionId == sessionId)) return;
            Assert.True(DateTime.UtcNow < until, "The submitted session never reached the board's list.");
            await Task.Delay(250);
        }
    }

    /// <summary>Polls the learner's dashboard until an entry of the session matches.</summary>
    public async Task<DashboardEntry> AwaitDashboardAsync(string token, string sessionId, Func<DashboardEntry, bool> predicate, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        DashboardEntry? last = null;
        while (DateTime.UtcNow < until)
        {
            var dashboard = await Dashboard(token).GetDashboardAsync(new GetDashboardRequest());
            last = dashboard.Entries.FirstOrDefault(e => e.SessionId == sessionId);
            if (last is not null && predicate(last)) return last;
            await Task.Delay(250);
        }
        throw new Xunit.Sdk.XunitException($"The dashboard never showed the expected entry; last seen: {last}");
    }

    public void Dispose()
    {
        foreach (var c in _channels) c.Dispose();
    }
}

/// <summary>A submitted session.</summary>
public sealed record Submitted(string LearnerId, string Token, Exam Exam, string SessionId, Receipt Receipt);
