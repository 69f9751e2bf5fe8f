using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Erasure;
using Vigil.Session.Outbox;
using Vigil.Session.Storage;
using Vigil.Testing;
using Events = Vigil.Contracts.Events;

namespace Vigil.Session.Tests.Storage;

/// <summary>
/// The session store's erasure and retention (<c>SessionStore.Privacy.cs</c>, EraseSession.lua, PurgeSession.lua):
/// every branch, against the real Redis, through the store's typed results; and that an erased or purged session leaves
/// no key holding the learner.
/// </summary>
public sealed class SessionStorePrivacyTests(StoreRedis redis) : IClassFixture<StoreRedis>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private sealed record Subject(RedisStorage Storage, SessionStore Store, SessionKeys Keys);

    private Subject New()
    {
        var storage = redis.NewStorage("session-privacy");
        var keys = new SessionKeys(storage.Keys);
        return new Subject(storage, new SessionStore(storage, keys, new OutboxSignal()), keys);
    }

    private static Exam NewExam() => new()
    {
        ExamId = "exam-" + Guid.NewGuid().ToString("N")[..8],
        CourseId = "course-" + Guid.NewGuid().ToString("N")[..8],
        Title = "Privacy test",
        Version = 1,
        TimeLimit = Duration.FromTimeSpan(TimeSpan.FromMinutes(60)),
        ConnectionLostAfter = Duration.FromTimeSpan(TimeSpan.FromSeconds(30)),
        Questions = { new Question { QuestionId = "q1", Kind = QuestionKind.ShortText, Prompt = "Why?", Points = 1 } },
    };

    /// <summary>A session of <paramref name="learnerId"/> with an answer and an incident, its claim taken, ended by the final check.</summary>
    private static async Task<string> FinishedAsync(Subject s, string learnerId, Exam? exam = null, bool finish = true)
    {
        exam ??= NewExam();
        var sessionId = "ses-" + Guid.NewGuid().ToString("N");
        var previous = await s.Store.GetClaimAsync(exam.ExamId, learnerId);
        Assert.Equal(AttemptClaimStatus.Claimed, (await s.Store.ClaimAttemptAsync(exam.ExamId, learnerId, sessionId, previous, false, 10)).Status);
        Assert.True(await s.Store.CreateAsync(new NewSession(sessionId, exam, learnerId, "Jane " + learnerId, learnerId + "@example.org", T0, T0.AddMinutes(60),
            new PinnedEvidence("ph-id-" + learnerId, new string('a', 64), T0), new PinnedEvidence("ph-face-" + learnerId, new string('b', 64), T0), "start-1")));
        await s.Store.SaveAsync(sessionId, "q1", 1, "d1", new Answer { Text = "secret answer of " + learnerId }, T0.AddMinutes(1), maxAhead: 100);
        await s.Store.HeartbeatAsync(sessionId, T0.AddMinutes(2), headphones: true, false, false, false, false, TimeSpan.FromSeconds(30), updateDueIndex: false);
        if (!finish) return sessionId;
        var read = (await s.Store.GetAsync(sessionId))!;
        var ending = new SessionEnding(FinishMode.FinalCheck, read.Rev, T0.AddMinutes(3), SessionState.Submitted, 1, new Receipt { SessionId = sessionId }, 1, 1,
            SessionStoreTests.Expired(sessionId), "finish-1", null);
        Assert.Equal(FinishStatus.Finished, (await s.Store.FinishAsync(sessionId, ending)).Status);
        return sessionId;
    }

    private static async Task DecideAsync(Subject s, string sessionId, long version, DateTimeOffset at)
    {
        var decision = new BoardDecision
        {
            Version = version, Outcome = DecisionOutcome.Refused, Reason = RefusalReason.Headphones, Notes = "Seen wearing earbuds at 10:02",
            DecidedBy = "board-1", DecidedAt = Timestamp.FromDateTimeOffset(at),
        };
        var evt = new Events.BoardDecisionRecorded
        {
            EventId = Guid.NewGuid(), SessionId = sessionId, ExamId = "e", CourseId = "c", LearnerId = "l", Version = version,
            Outcome = Events.DecisionOutcome.Refused, ReasonCode = "REFUSAL_REASON_HEADPHONES", ReasonText = "x", DecidedBy = "board-1", DecidedAt = at,
        };
        Assert.Equal(DecisionStatus.Recorded, (await s.Store.DecideAsync(sessionId, "decision:" + version, version - 1, decision, evt, at)).Status);
        await RelayedAsync(s, sessionId);
    }

    /// <summary>As if the relay had published the session's events (the purge waits for that).</summary>
    private static Task RelayedAsync(Subject s, string sessionId) => s.Storage.Database.KeyDeleteAsync(s.Keys.Session(sessionId).Outbox);

    /// <summary>Every key of the test's keyspace whose name or content mentions <paramref name="needle"/>.</summary>
    private async Task<List<string>> KeysMentioningAsync(Subject s, string needle) =>
        (await KeyspaceScan.FindAsync(redis.Connection, s.Storage.Keys.Prefix + "*", new Dictionary<string, string> { [needle] = needle }))
            .Select(h => h.Key).Distinct().ToList();

    [Fact]
    public async Task A_new_session_is_in_its_learners_index_and_due_for_retention_at_its_deadline()
    {
        var s = New();
        var id = await FinishedAsync(s, "learner-a", finish: false);
        Assert.Equal([id], await s.Store.GetLearnerSessionIdsAsync("learner-a"));
        // An erasure requested before the session started (a request redelivered after the learner came back) leaves it.
        Assert.Equal([id], await s.Store.GetLearnerSessionIdsAsync("learner-a", startedNotAfter: T0));
        Assert.Empty(await s.Store.GetLearnerSessionIdsAsync("learner-a", startedNotAfter: T0.AddMilliseconds(-1)));
        Assert.Equal([new DueSession(id, T0.AddMinutes(60))], await s.Store.DueRetentionAsync(T0.AddDays(1), 10));
        Assert.Empty(await s.Store.DueRetentionAsync(T0.AddMinutes(59), 10));
    }

    [Fact]
    public async Task Erasing_a_session_removes_everything_of_the_learner_and_keeps_what_the_board_may_see()
    {
        var s = New();
        var id = await FinishedAsync(s, "learner-b");
        await DecideAsync(s, id, 1, T0.AddDays(2));
        var read = (await s.Store.GetAsync(id))!;
        var decisions = await s.Store.GetDecisionsAsync(id);
        Assert.NotEmpty(await KeysMentioningAsync(s, "learner-b"));

        var erased = SessionErasureConsumer.ErasedRecord(read, decisions, T0.AddDays(3));
        // The claim goes before the erasure (its key names the learner), as the consumer does.
        await s.Store.ReleaseClaimAsync(read.ExamId, "learner-b", id);
        Assert.Equal(SessionErasure.Erased, await s.Store.EraseSessionAsync(read, erased));
        await s.Store.RemoveFromLearnerAsync("learner-b", id);

        Assert.Null(await s.Store.GetAsync(id));
        Assert.Empty(await s.Store.GetAnswersAsync(id));
        Assert.Empty(await s.Store.GetIncidentsAsync(id));
        Assert.Empty(await s.Store.GetDecisionsAsync(id));
        Assert.Empty(await KeysMentioningAsync(s, "learner-b"));
        Assert.Empty(await KeysMentioningAsync(s, "secret answer"));
        Assert.Empty(await KeysMentioningAsync(s, "earbuds"));

        var left = (await s.Store.GetErasedAsync(id))!;
        Assert.Equal((read.CourseId, T0.AddMinutes(60), T0.AddDays(2), T0.AddDays(3)), (left.CourseId, left.Deadline, left.LastDecidedAt, left.ErasedAt));
        Assert.Equal((id, read.ExamId, SessionState.Submitted, string.Empty), (left.Record.Session.SessionId, left.Record.Session.ExamId, left.Record.Session.State, left.Record.Session.LearnerId));
        Assert.Equal(Timestamp.FromDateTimeOffset(T0.AddDays(3)), left.Record.ErasedAt);
        var decision = Assert.Single(left.Record.Decisions);
        Assert.Equal((1L, DecisionOutcome.Refused, RefusalReason.Headphones, string.Empty), (decision.Version, decision.Outcome, decision.Reason, decision.Notes));
        Assert.Empty(left.Record.Answers);
        Assert.Empty(left.Record.Incidents);
        Assert.Null(left.Record.Receipt);

        // Again: already erased; a session that never was: gone.
        Assert.Equal(SessionErasure.AlreadyErased, await s.Store.EraseSessionAsync(read, erased));
        Assert.Equal(SessionErasure.Gone, await s.Store.EraseSessionAsync(new SessionDataBuilder(read).WithId("ses-none-" + Guid.NewGuid().ToString("N")), erased));
    }

    [Fact]
    public async Task Erasing_refuses_a_session_that_changed_since_it_was_read_or_belongs_to_someone_else()
    {
        var s = New();
        var id = await FinishedAsync(s, "learner-c");
        var read = (await s.Store.GetAsync(id))!;
        var erased = SessionErasureConsumer.ErasedRecord(read, [], T0.AddDays(1));

        // A decision after the read: changed, nothing erased.
        await DecideAsync(s, id, 1, T0.AddDays(1));
        Assert.Equal(SessionErasure.Changed, await s.Store.EraseSessionAsync(read, erased));
        Assert.NotNull(await s.Store.GetAsync(id));

        // Another learner named: left alone.
        var other = new SessionDataBuilder((await s.Store.GetAsync(id))!).WithLearner("learner-x");
        Assert.Equal(SessionErasure.OtherLearner, await s.Store.EraseSessionAsync(other, erased));
        Assert.NotNull(await s.Store.GetAsync(id));
        Assert.Null(await s.Store.GetErasedAsync(id));
    }

    [Fact]
    public async Task The_retention_view_holds_the_latest_decision_and_the_purge_deletes_everything_with_its_counts()
    {
        var s = New();
        var exam = NewExam();
        var id = await FinishedAsync(s, "learner-d", exam);
        await RelayedAsync(s, id);
        await DecideAsync(s, id, 1, T0.AddDays(1));
        await DecideAsync(s, id, 2, T0.AddDays(5));

        var view = (await s.Store.GetRetentionViewAsync(id))!;
        Assert.Equal((false, SessionState.Submitted, 2L, T0, T0.AddMinutes(60), (DateTimeOffset?)T0.AddDays(5), exam.ExamId, exam.CourseId, "learner-d"),
            (view.Erased, view.State, view.DecisionVersion, view.StartedAt, view.Deadline, view.LastDecidedAt, view.ExamId, view.CourseId, view.LearnerId));

        // A decision after the read: the purge is refused and the indexes come back.
        await s.Store.UnindexAsync(view);
        Assert.Empty(await s.Store.GetLearnerSessionIdsAsync("learner-d"));
        Assert.Null(await s.Store.GetClaimAsync(exam.ExamId, "learner-d"));
        Assert.Empty(await s.Store.ListCourseSessionsAsync(exam.CourseId));
        await DecideAsync(s, id, 3, T0.AddDays(6));
        Assert.Equal(new PurgeResult(PurgeStatus.Changed), await s.Store.PurgeAsync(view));
        await s.Store.ReindexAsync(view);
        Assert.Equal([id], await s.Store.GetLearnerSessionIdsAsync("learner-d"));
        Assert.Equal(id, await s.Store.GetClaimAsync(exam.ExamId, "learner-d"));
        Assert.Equal([id], await s.Store.ListCourseSessionsAsync(exam.CourseId));

        var fresh = (await s.Store.GetRetentionViewAsync(id))!;
        await s.Store.UnindexAsync(fresh);
        Assert.Equal(new PurgeResult(PurgeStatus.Purged, Answers: 1, Incidents: 1, Decisions: 3), await s.Store.PurgeAsync(fresh));
        Assert.Null(await s.Store.GetRetentionViewAsync(id));
        Assert.Empty(await KeysMentioningAsync(s, "learner-d"));
        // Only the global indexes still name the session, each emptied in its own step: the sweeper removes its
        // retention entry after the purge, the relay its pending entry once it finds the outbox empty.
        Assert.Equal([s.Keys.OutboxPending.ToString(), s.Keys.RetentionDue.ToString()], (await KeysMentioningAsync(s, id)).Order());
        Assert.Equal(new PurgeResult(PurgeStatus.Gone), await s.Store.PurgeAsync(fresh));
    }

    [Fact]
    public async Task The_purge_leaves_a_running_session_and_an_outbox_with_events_to_relay()
    {
        var s = New();
        var running = await FinishedAsync(s, "learner-e", finish: false);
        Assert.Equal(new PurgeResult(PurgeStatus.Changed), await s.Store.PurgeAsync((await s.Store.GetRetentionViewAsync(running))!));
        Assert.NotNull(await s.Store.GetAsync(running));

        // Ended with its event still in the outbox (the relay has not run): kept until it is relayed.
        var ended = await FinishedAsync(s, "learner-e");
        Assert.Equal(1, await s.Storage.Database.ListLengthAsync(s.Keys.Session(ended).Outbox));
        Assert.Equal(new PurgeResult(PurgeStatus.Changed), await s.Store.PurgeAsync((await s.Store.GetRetentionViewAsync(ended))!));
        await RelayedAsync(s, ended);
        Assert.Equal(PurgeStatus.Purged, (await s.Store.PurgeAsync((await s.Store.GetRetentionViewAsync(ended))!)).Status);
    }

    [Fact]
    public async Task What_is_left_of_an_erased_session_is_purged_at_the_end_of_its_retention()
    {
        var s = New();
        var id = await FinishedAsync(s, "learner-f");
        await DecideAsync(s, id, 1, T0.AddDays(1));
        var read = (await s.Store.GetAsync(id))!;
        Assert.Equal(SessionErasure.Erased, await s.Store.EraseSessionAsync(read, SessionErasureConsumer.ErasedRecord(read, await s.Store.GetDecisionsAsync(id), T0.AddDays(2))));

        var view = (await s.Store.GetRetentionViewAsync(id))!;
        Assert.Equal((true, T0, T0.AddMinutes(60), (DateTimeOffset?)T0.AddDays(1), string.Empty), (view.Erased, view.StartedAt, view.Deadline, view.LastDecidedAt, view.LearnerId));
        await s.Store.UnindexAsync(view);
        Assert.Empty(await s.Store.ListCourseSessionsAsync(read.CourseId));
        Assert.Equal(new PurgeResult(PurgeStatus.PurgedErased), await s.Store.PurgeAsync(view));
        Assert.Null(await s.Store.GetErasedAsync(id));
        Assert.Null(await s.Store.GetRetentionViewAsync(id));
    }

    [Fact]
    public async Task Retention_entries_move_and_leave_only_when_unchanged()
    {
        var s = New();
        var id = await FinishedAsync(s, "learner-g", finish: false);
        var entry = Assert.Single(await s.Store.DueRetentionAsync(T0.AddDays(1), 10));
        await s.Store.RescheduleRetentionAsync(id, T0.AddDays(400));
        await s.Store.RemoveRetentionEntryAsync(entry);
        Assert.Empty(await s.Store.DueRetentionAsync(T0.AddDays(1), 10));
        var moved = Assert.Single(await s.Store.DueRetentionAsync(T0.AddDays(401), 10));
        Assert.Equal(new DueSession(id, T0.AddDays(400)), moved);
        await s.Store.RemoveRetentionEntryAsync(moved);
        Assert.Empty(await s.Store.DueRetentionAsync(T0.AddDays(401), 10));
    }

    /// <summary>A session as read, with one thing changed (what the scripts compare against).</summary>
    private sealed class SessionDataBuilder(SessionData read)
    {
        public SessionData WithLearner(string learnerId) => Copy(read.SessionId, learnerId);

        public SessionData WithId(string sessionId) => Copy(sessionId, read.LearnerId);

        private SessionData Copy(string sessionId, string learnerId) => new()
        {
            SessionId = sessionId, ExamId = read.ExamId, CourseId = read.CourseId, LearnerId = learnerId, LearnerName = read.LearnerName, LearnerEmail = read.LearnerEmail, State = read.State,
            StartedAt = read.StartedAt, Deadline = read.Deadline, LastAcked = read.LastAcked, Rev = read.Rev, Exam = read.Exam,
            IdDocumentPhotoAccepted = read.IdDocumentPhotoAccepted, FacePhotoAccepted = read.FacePhotoAccepted, StartRequest = read.StartRequest,
            FinishRequest = read.FinishRequest, DecisionVersion = read.DecisionVersion,
        };
    }
}
