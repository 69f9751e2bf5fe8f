using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.Session.Tests.Infrastructure;

/// <summary>
/// Two session replicas (A and B) sharing one Redis key space, the identity service, and a broker probe.
/// Shared by every integration test (one collection: they run one after the other).
/// </summary>
public sealed class SessionFixture : IAsyncLifetime
{
    public string KeyPrefix { get; } = "test-session-" + Guid.NewGuid().ToString("N")[..8] + ":";
    public IdentityTestHost Identity { get; private set; } = null!;
    public SessionHost ReplicaA { get; private set; } = null!;
    public SessionHost ReplicaB { get; private set; } = null!;
    public EventProbe Events { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Events = await EventProbe.StartAsync(TestEnvironment.RabbitMq("session"));
        Identity = await IdentityTestHost.StartAsync();
        ReplicaA = new SessionHost(KeyPrefix, Identity.CreateHandler);
        ReplicaB = new SessionHost(KeyPrefix, Identity.CreateHandler);
        _ = ReplicaA.Server;
        _ = ReplicaB.Server;
    }

    public async Task DisposeAsync()
    {
        await ReplicaA.DisposeAsync();
        await ReplicaB.DisposeAsync();
        await Identity.DisposeAsync();
        await Events.DisposeAsync();
    }

    /// <summary>A new course id, so that each test's board sees only its own sessions.</summary>
    public static string NewCourse() => "course-" + Guid.NewGuid().ToString("N")[..8];

    public ExamService.ExamServiceClient Exams(string courseId) =>
        new(ReplicaA.Channel(TestTokens.Staff("staff-1", courseId)));

    public ExamBoardService.ExamBoardServiceClient Board(string courseId, string member = "board-1", SessionHost? replica = null) =>
        new((replica ?? ReplicaA).Channel(TestTokens.Board(member, courseId)));

    /// <summary>Creates an exam through the real ExamService.</summary>
    public async Task<Exam> CreateExamAsync(string courseId, Action<Exam>? configure = null)
    {
        var exam = ExamSamples.Build(courseId);
        configure?.Invoke(exam);
        var response = await Exams(courseId).CreateExamAsync(new CreateExamRequest { RequestId = Guid.NewGuid().ToString(), Exam = exam });
        return response.Exam;
    }

    /// <summary>A registered learner whose verification for <paramref name="examId"/> is complete (ID-document and face photos accepted).</summary>
    public async Task<TestLearner> VerifiedLearnerAsync(string examId)
    {
        var learner = await RegisteredLearnerAsync();
        await Identity.CompleteVerificationAsync(learner, examId, withIdPhoto: true);
        return learner;
    }

    /// <summary>A registered learner who has done nothing of the verification yet.</summary>
    public async Task<TestLearner> RegisteredLearnerAsync()
    {
        var id = "learner-" + Guid.NewGuid().ToString("N")[..10];
        var learner = new TestLearner(id, "Ada " + id[^4..], TestTokens.Learner(id), this);
        await Identity.RegisterAsync(learner);
        return learner;
    }
}

/// <summary>A learner with a token, reaching either replica.</summary>
public sealed record TestLearner(string Id, string Name, string Token, SessionFixture Fixture)
{
    public SessionService.SessionServiceClient Sessions(SessionHost? replica = null) =>
        new((replica ?? Fixture.ReplicaA).Channel(Token));

    public async Task<Contracts.Session.V1.Session> StartAsync(string examId, SessionHost? replica = null) =>
        (await Sessions(replica).StartSessionAsync(new StartSessionRequest { RequestId = Guid.NewGuid().ToString(), ExamId = examId })).Session;

    public Task<ExamStreamClient> OpenStreamAsync(string sessionId, long lastAcked = 0, SessionHost? replica = null) =>
        ExamStreamClient.OpenAsync(Sessions(replica), sessionId, lastAcked);
}

[CollectionDefinition(Name)]
public sealed class SessionCollection : ICollectionFixture<SessionFixture>
{
    public const string Name = "session";
}

/// <summary>Exam definitions for the tests.</summary>
public static class ExamSamples
{
    /// <summary>
    /// Three questions: q1 single choice (key b, 2 points), q2 short text (key "Paris", 1 point), q3 numeric without a key
    /// (1 point); pass mark 2; 30 minutes; window open now.
    /// </summary>
    public static Exam Build(string courseId) => new()
    {
        CourseId = courseId,
        Title = "Algorithms — final exam",
        Instructions = "Press the final check button to validate your answers; the save button does not count.",
        Questions =
        {
            new Question
            {
                QuestionId = "q1", Kind = QuestionKind.SingleChoice, Prompt = "Pick b.", Points = 2,
                Options = { new ChoiceOption { OptionId = "a", Text = "A" }, new ChoiceOption { OptionId = "b", Text = "B" } },
                AnswerKey = new AnswerKey { CorrectOptionIds = { "b" } },
            },
            new Question
            {
                QuestionId = "q2", Kind = QuestionKind.ShortText, Prompt = "Capital of France?", Points = 1,
                AnswerKey = new AnswerKey { AcceptedTexts = { "Paris" } },
            },
            new Question { QuestionId = "q3", Kind = QuestionKind.Numeric, Prompt = "Your favourite number.", Points = 1 },
        },
        PassMark = 2,
        TimeLimit = Duration.FromTimeSpan(TimeSpan.FromMinutes(30)),
        WindowOpensAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(-1)),
        WindowClosesAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(2)),
    };

    public static Answer Choice(params string[] ids) => new() { Choice = new ChoiceAnswer { OptionIds = { ids } } };
    public static Answer Text(string text) => new() { Text = text };
    public static Answer Number(double n) => new() { Number = n };
}
