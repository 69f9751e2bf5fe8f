using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Vigil.Contracts.Session.V1;
using Vigil.Identity;
using Vigil.Session.Monitoring;
using Vigil.Testing;

namespace Vigil.Session.Tests.Infrastructure;

/// <summary>
/// Two session replicas (A and B) sharing one Redis key space and one fake clock, the real identity service in
/// process, a broker probe, and the journey (calls to replica A, identity calls to identity). Shared by every
/// integration test (one collection: they run one after the other, and only they move the clock).
/// </summary>
public sealed class SessionFixture : IAsyncLifetime
{
    /// <summary>How often the replicas sweep deadlines and heartbeat gaps, in the fake clock's time.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    /// <summary>How often the replicas' outbox relays walk the pending index, in the fake clock's time.</summary>
    public static readonly TimeSpan OutboxPollInterval = TimeSpan.FromSeconds(1);

    public string KeyPrefix { get; } = "test-session-" + Guid.NewGuid().ToString("N")[..8] + ":";

    /// <summary>The time every replica reads; it starts at the real time and moves only when a test advances it.</summary>
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public VigilServiceFactory<IdentityApp> Identity { get; } = new("session");

    public SessionHost ReplicaA { get; private set; } = null!;

    public SessionHost ReplicaB { get; private set; } = null!;

    public EventProbe Events { get; private set; } = null!;

    public Journey Journey { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Events = await EventProbe.StartAsync(TestEnvironment.RabbitMq("session"), "session-tests-probe");
        _ = Identity.Server;
        ReplicaA = Replica();
        ReplicaB = Replica();
        _ = ReplicaA.Server;
        _ = ReplicaB.Server;
        Journey = new Journey(ReplicaA, Identity, Clock);
    }

    public async Task DisposeAsync()
    {
        Journey.Dispose();
        await ReplicaA.DisposeAsync();
        await ReplicaB.DisposeAsync();
        await Identity.DisposeAsync();
        await Events.DisposeAsync();
    }

    /// <summary>Another replica on the fixture's clock (the caller disposes it): of this deployment unless another key space is given.</summary>
    public SessionHost Replica(string? keyPrefix = null, Func<HttpMessageHandler>? identityHandler = null, string identityAddress = "http://identity.test", string? rabbitMq = null) =>
        new(keyPrefix ?? KeyPrefix, Clock, identityHandler ?? Identity.Server.CreateHandler, identityAddress, rabbitMq);

    /// <summary>A new course id, so that each test's board sees only its own sessions.</summary>
    public static string NewCourse() => "course-" + Guid.NewGuid().ToString("N")[..8];

    public ExamService.ExamServiceClient Exams(string courseId) => Journey.Exams(TestTokens.Staff("staff-1", courseId));

    public ExamBoardService.ExamBoardServiceClient Board(string courseId, string member = "board-1", SessionHost? replica = null) =>
        Journey.Board(TestTokens.Board(member, courseId), replica);

    /// <summary>Creates the <see cref="ExamBuilder.Standard"/> exam of a course (changed by <paramref name="configure"/>), open by the fake clock.</summary>
    public Task<Exam> CreateExamAsync(string courseId, Action<Exam>? configure = null) => Journey.StandardExamAsync(courseId, configure);

    /// <summary>A registered learner whose verification for <paramref name="examId"/> is complete (ID-document and face photos accepted).</summary>
    public Task<TestLearner> VerifiedLearnerAsync(string examId) => Journey.VerifiedLearnerAsync(examId);

    /// <summary>A registered learner who has done nothing of the verification yet.</summary>
    public Task<TestLearner> RegisteredLearnerAsync() => Journey.RegisteredLearnerAsync();

    /// <summary>Moves every replica's clock forward: deadlines and heartbeat gaps pass, and the sweepers and relays run for the intervals crossed.</summary>
    public void Advance(TimeSpan by) => Clock.Advance(by);

    /// <summary>
    /// Sweeps on both replicas now (deadlines, then heartbeat gaps), as their loops do at each interval, and returns
    /// when done: what a sweep at the current time would change has changed.
    /// </summary>
    public async Task SweepNowAsync()
    {
        foreach (var replica in new[] { ReplicaA, ReplicaB })
        {
            var sweeper = replica.Services.GetServices<IHostedService>().OfType<SessionSweeper>().Single();
            await sweeper.SweepDeadlinesAsync();
            await sweeper.SweepHeartbeatGapsAsync();
        }
    }

    /// <summary>An enum of an event as MassTransit wrote it (its name, or its number).</summary>
    public static string EnumText(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetInt32().ToString(CultureInfo.InvariantCulture) : e.GetString()!;

    /// <summary>Waits until the session's state satisfies <paramref name="done"/>; returns the session as then read.</summary>
    public Task<GetSessionResponse> WaitForStateAsync(TestLearner learner, string sessionId, Func<SessionState, bool> done) =>
        Eventually.ObjectAsync(async () =>
        {
            var s = await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = sessionId });
            return done(s.Session.State) ? s : null;
        }, () => $"session {sessionId} to reach the expected state");
}

[CollectionDefinition(Name)]
public sealed class SessionCollection : ICollectionFixture<SessionFixture>
{
    public const string Name = "session";
}
