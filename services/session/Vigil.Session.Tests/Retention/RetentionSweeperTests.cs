using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Retention;
using Vigil.Session.Storage;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Retention;

/// <summary>
/// The retention sweeper on a fake clock (its own replica and key space, so that a year passes for nobody else): a
/// session is deleted with everything it holds when <c>Retention:Sessions</c> after its deadline has passed, a late
/// decision keeps it <c>Retention:AfterDecision</c> more, and what was deleted is counted.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class RetentionSweeperTests(SessionFixture f)
{
    [Fact]
    public async Task Sessions_go_when_their_retention_ends_on_the_clock_and_a_late_decision_keeps_them_for_the_appeal()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var prefix = "test-retention-" + Guid.NewGuid().ToString("N")[..8] + ":";
        await using var replica = new SessionHost(prefix, clock, f.Identity.Server.CreateHandler);
        using var journey = new Journey(replica, f.Identity, clock);
        using var deleted = new DeletedCounter(replica.Services.GetRequiredService<IMeterFactory>());
        var store = replica.Services.GetRequiredService<SessionStore>();
        var retention = replica.Services.GetRequiredService<IOptions<RetentionOptions>>().Value;

        var exam = await journey.StandardExamAsync(SessionFixture.NewCourse());
        var undecided = await SubmittedAsync(journey, exam, "kept a year");
        var decided = await SubmittedAsync(journey, exam, "kept for the appeal");
        // The purge waits for a session's events to be relayed.
        await f.Events.WaitAsync("SessionSubmitted", [undecided.SessionId, decided.SessionId], 2);
        var deadline = (await store.GetAsync(undecided.SessionId))!.Deadline;

        // The board decides late in the year: the decided session is kept AfterDecision from then.
        clock.Advance(retention.Sessions - TimeSpan.FromDays(30));
        await journey.DecideAsync(decided, DecisionOutcome.Valid);
        var decidedAt = clock.GetUtcNow();

        // A minute before the end of the year nothing goes; past it, the undecided session goes, the decided one stays.
        clock.SetUtcNow(deadline + retention.Sessions - TimeSpan.FromMinutes(1));
        await replica.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<RetentionSweeper>().Single().SweepAsync(default);
        Assert.NotNull(await store.GetRetentionViewAsync(undecided.SessionId));
        clock.Advance(TimeSpan.FromMinutes(1) + retention.SweepInterval);
        await Eventually.Async(async () => await store.GetRetentionViewAsync(undecided.SessionId) is null, "the undecided session to be deleted by the sweeper's timer");
        Assert.NotNull(await store.GetRetentionViewAsync(decided.SessionId));
        Assert.Empty(await KeysMentioningAsync(replica, undecided.Learner.Id, "kept a year"));

        clock.SetUtcNow(decidedAt + retention.AfterDecision + retention.SweepInterval);
        await Eventually.Async(async () => await store.GetRetentionViewAsync(decided.SessionId) is null, "the decided session to be deleted after the appeal window");
        Assert.Empty(await KeysMentioningAsync(replica, decided.Learner.Id, "kept for the appeal"));
        Assert.Empty(await store.ListCourseSessionsAsync(exam.CourseId));

        // Counted: two sessions, their answers (three each) and the one decision.
        await Eventually.True(() => deleted.Of("sessions") == 2, "two sessions counted");
        Assert.Equal((6L, 1L), (deleted.Of("answers"), deleted.Of("decisions")));
    }

    private static async Task<StartedLearner> SubmittedAsync(Journey journey, Exam exam, string text)
    {
        var learner = await journey.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        var started = new StartedLearner(learner, exam, session.SessionId);
        var last = await journey.SaveAnswersAsync(learner, session.SessionId,
            ("q1", TestAnswers.Choice("b")), ("q2", TestAnswers.Text(text)), ("q3", TestAnswers.Number(42)));
        await journey.SubmitAsync(learner, session.SessionId, last);
        return started;
    }

    private static async Task<List<KeyspaceHit>> KeysMentioningAsync(SessionHost replica, string learnerId, string answer)
    {
        var redis = replica.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>();
        var prefix = replica.Services.GetRequiredService<RedisKeyspace>().Prefix;
        return [.. await KeyspaceScan.FindAsync(redis, prefix + "*", new Dictionary<string, string> { ["learner id"] = learnerId, ["answer"] = answer })];
    }

    /// <summary>The replica's <c>vigil.retention.deleted</c> counter, by kind (only its own host's meter).</summary>
    private sealed class DeletedCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _counts = [];

        public DeletedCounter(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "vigil.retention.deleted" && ReferenceEquals(instrument.Meter.Scope, scope)) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key != "kind") continue;
                    lock (_counts) _counts[(string)tag.Value!] = _counts.GetValueOrDefault((string)tag.Value!) + value;
                }
            });
            _listener.Start();
        }

        public long Of(string kind)
        {
            lock (_counts) return _counts.GetValueOrDefault(kind);
        }

        public void Dispose() => _listener.Dispose();
    }
}
