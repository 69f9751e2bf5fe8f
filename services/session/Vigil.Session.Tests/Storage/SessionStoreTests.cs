using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Events;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Outbox;
using Vigil.Session.Storage;
using Vigil.Testing;

namespace Vigil.Session.Tests.Storage;

/// <summary>Every branch of every session script, against the real Redis, through the store's typed results.</summary>
public sealed partial class SessionStoreTests(StoreRedis redis) : IClassFixture<StoreRedis>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private sealed record Subject(RedisStorage Storage, SessionStore Store, OutboxStore Outbox, SessionKeys Keys);

    private Subject New()
    {
        var storage = redis.NewStorage("session-store");
        var keys = new SessionKeys(storage.Keys);
        return new Subject(storage, new SessionStore(storage, keys, new OutboxSignal()), new OutboxStore(storage, keys), keys);
    }

    private static Exam NewExam() => new()
    {
        ExamId = "exam-" + Guid.NewGuid().ToString("N")[..8],
        CourseId = "course-" + Guid.NewGuid().ToString("N")[..8],
        Title = "Store test",
        Version = 1,
        TimeLimit = Duration.FromTimeSpan(TimeSpan.FromMinutes(60)),
        ConnectionLostAfter = Duration.FromTimeSpan(TimeSpan.FromSeconds(30)),
        Questions = { new Question { QuestionId = "q1", Kind = QuestionKind.ShortText, Prompt = "Why?", Points = 1 } },
    };

    private const long MaxAhead = 100;

    private static readonly PinnedEvidence IdPhoto = new("ph_1", new string('a', 64), T0.AddMinutes(-5));

    private static async Task<string> StartAsync(Subject s, Exam? exam = null)
    {
        var sessionId = "ses-" + Guid.NewGuid().ToString("N");
        Assert.True(await s.Store.CreateAsync(new NewSession(sessionId, exam ?? NewExam(), "learner-1", "Jane", "jane@example.org", T0, T0.AddMinutes(60), IdPhoto, null, "start-1")));
        return sessionId;
    }

    private static Answer Text(string text) => new() { Text = text };

    private static SessionEnding Ending(FinishMode mode, SessionData session, DateTimeOffset now, SessionState state, long lastSave = -1) =>
        new(mode, session.Rev, now, state, lastSave, new Receipt { SessionId = session.SessionId }, 1, 2,
            Expired(session.SessionId), "finish-1", null);

    internal static SessionExpired Expired(string sessionId) => new()
    {
        EventId = Guid.NewGuid(), SessionId = sessionId, ExamId = "exam", CourseId = "course", LearnerId = "learner-1",
        ExamTitle = "Store test", ExpiredAt = T0, UnvalidatedAnswers = 0,
    };

    [Fact]
    public void The_scripts_state_and_incident_kind_numbers_are_the_contracts()
    {
        var text = string.Join('\n', SessionStore.Scripts.Select(s => s.Text));
        var constants = StateConstant().Matches(text).Select(m => (Name: m.Groups["name"].Value, Value: int.Parse(m.Groups["value"].Value))).Distinct().ToList();
        Assert.NotEmpty(constants);
        foreach (var (name, value) in constants)
        {
            // KIND_* are incident kinds (incidents.lua), the rest session states (states.lua).
            var kind = name.StartsWith("KIND_", StringComparison.Ordinal);
            var member = string.Concat((kind ? name[5..] : name).Split('_').Select(w => w[0] + w[1..].ToLowerInvariant()));
            if (kind) Assert.Equal(System.Enum.Parse<IncidentKind>(member), (IncidentKind)value);
            else Assert.Equal(System.Enum.Parse<SessionState>(member), (SessionState)value);
        }
    }

    [GeneratedRegex(@"local (?<name>[A-Z_]+) = '(?<value>\d+)'")]
    private static partial Regex StateConstant();

    [Fact]
    public async Task Create_writes_the_session_and_its_indexes_once()
    {
        var s = New();
        var exam = NewExam();
        var sessionId = await StartAsync(s, exam);
        Assert.False(await s.Store.CreateAsync(new NewSession(sessionId, exam, "learner-2", "Other", "other@example.org", T0, T0.AddMinutes(60), null, null, "start-2")));

        var session = await s.Store.GetAsync(sessionId);
        Assert.NotNull(session);
        Assert.Equal((SessionState.InProgress, "learner-1", "Jane", "start-1", T0, T0.AddMinutes(60), 0L, 0L),
            (session.State, session.LearnerId, session.LearnerName, session.StartRequest, session.StartedAt, session.Deadline, session.LastAcked, session.Rev));
        Assert.True(session.IdDocumentPhotoAccepted);
        Assert.False(session.FacePhotoAccepted);
        Assert.Equal(IdPhoto, session.IdDocumentPhoto);
        Assert.Null(session.FacePhoto);
        Assert.Equal("jane@example.org", session.LearnerEmail);
        Assert.Equal(exam, session.Exam);
        Assert.Equal([sessionId], await s.Store.ListCourseSessionsAsync(exam.CourseId));
        Assert.Equal([new DueSession(sessionId, T0.AddMinutes(60))], await s.Store.DueDeadlinesAsync(T0.AddHours(2), 10));
        Assert.Equal([new DueSession(sessionId, T0.AddSeconds(30))], await s.Store.DueHeartbeatChecksAsync(T0.AddHours(2), 10));
        Assert.Empty(await s.Store.DueDeadlinesAsync(T0.AddMinutes(59), 10));
    }

    [Fact]
    public async Task Save_stores_then_answers_duplicate_stale_and_conflict_without_writing()
    {
        var s = New();
        var id = await StartAsync(s);

        var stored = await s.Store.SaveAsync(id, "q1", 2, "d2", Text("two"), T0.AddMinutes(1), MaxAhead);
        Assert.Equal(new SaveResult(SaveStatus.Stored, "d2", 2), stored);
        Assert.True(stored.Acknowledged);

        var duplicate = await s.Store.SaveAsync(id, "q1", 2, "d2", Text("two"), T0.AddMinutes(2), MaxAhead);
        Assert.Equal(new SaveResult(SaveStatus.Duplicate, "d2", 2), duplicate);

        // An older sequence: nothing written, the stored digest acknowledged, last_acked unchanged.
        var stale = await s.Store.SaveAsync(id, "q1", 1, "d1", Text("one"), T0.AddMinutes(3), MaxAhead);
        Assert.Equal(new SaveResult(SaveStatus.Stale, "d2", 2), stale);

        // The same sequence for another answer: refused, the stored digest named.
        var conflict = await s.Store.SaveAsync(id, "q1", 2, "other", Text("other"), T0.AddMinutes(4), MaxAhead);
        Assert.Equal(new SaveResult(SaveStatus.Conflict, "d2"), conflict);
        Assert.False(conflict.Acknowledged);

        var answers = await s.Store.GetAnswersAsync(id);
        var answer = Assert.Single(answers).Value;
        Assert.Equal(("two", 2L, "d2", T0.AddMinutes(1)), (answer.Answer.Text, answer.Sequence, answer.Digest, answer.SavedAt));
        var session = await s.Store.GetAsync(id);
        Assert.Equal((2L, 1L), (session!.LastAcked, session.Rev));

        // A newer sequence on another question moves last_acked; sequences increase across the session, so one at or
        // below it on a question that never had it was used for another save: refused, nothing written.
        Assert.Equal(new SaveResult(SaveStatus.Stored, "d5", 5), await s.Store.SaveAsync(id, "q2", 5, "d5", Text("five"), T0.AddMinutes(5), MaxAhead));
        Assert.Equal(new SaveResult(SaveStatus.Reused, LastAcked: 5), await s.Store.SaveAsync(id, "q3", 3, "d3", Text("three"), T0.AddMinutes(6), MaxAhead));
        Assert.Equal(new SaveResult(SaveStatus.Reused, LastAcked: 5), await s.Store.SaveAsync(id, "q1", 4, "d4", Text("four"), T0.AddMinutes(6), MaxAhead));
        // More than MaxAhead past the last acknowledged: refused, last_acked unchanged; exactly MaxAhead is a save.
        Assert.Equal(new SaveResult(SaveStatus.TooFarAhead, LastAcked: 5), await s.Store.SaveAsync(id, "q3", 5 + MaxAhead + 1, "d", Text("far"), T0.AddMinutes(7), MaxAhead));
        Assert.Equal(new SaveResult(SaveStatus.Stored, "d105", 5 + MaxAhead), await s.Store.SaveAsync(id, "q3", 5 + MaxAhead, "d105", Text("near"), T0.AddMinutes(7), MaxAhead));
        Assert.Equal(3, await s.Store.CountAnswersAsync(id));
    }

    [Fact]
    public async Task Save_refuses_after_the_deadline_on_a_closed_session_and_on_a_missing_one()
    {
        var s = New();
        var id = await StartAsync(s);
        Assert.Equal(new SaveResult(SaveStatus.DeadlinePassed), await s.Store.SaveAsync(id, "q1", 1, "d", Text("late"), T0.AddMinutes(60), MaxAhead));
        Assert.Equal(new SaveResult(SaveStatus.Missing), await s.Store.SaveAsync("ses-none-" + Guid.NewGuid().ToString("N"), "q1", 1, "d", Text("x"), T0, MaxAhead));

        var session = (await s.Store.GetAsync(id))!;
        Assert.Equal(FinishStatus.Finished, (await s.Store.FinishAsync(id, Ending(FinishMode.FinalCheck, session, T0.AddMinutes(1), SessionState.Submitted, 0))).Status);
        Assert.Equal(new SaveResult(SaveStatus.Closed, ClosedState: SessionState.Submitted), await s.Store.SaveAsync(id, "q1", 1, "d", Text("x"), T0.AddMinutes(2), MaxAhead));
        Assert.Empty(await s.Store.GetAnswersAsync(id));
    }

    [Fact]
    public async Task Heartbeat_opens_and_closes_rule_incidents_and_ends_a_connection_lost_one()
    {
        var s = New();
        var id = await StartAsync(s);

        // Silence past the gap: the sweeper's check opens connection-lost, starting at the start (no heartbeat yet).
        Assert.Equal(new GapCheck(GapStatus.Later, T0.AddSeconds(30)), await s.Store.CheckHeartbeatGapAsync(id, T0.AddSeconds(10), "lost"));
        Assert.Equal(new GapCheck(GapStatus.Opened), await s.Store.CheckHeartbeatGapAsync(id, T0.AddSeconds(31), "lost"));
        Assert.Equal(new GapCheck(GapStatus.AlreadyOpen), await s.Store.CheckHeartbeatGapAsync(id, T0.AddSeconds(40), "lost"));

        var first = await s.Store.HeartbeatAsync(id, T0.AddSeconds(45), headphones: true, cameraOff: false, screenShareOff: true, focusLost: false, micOff: true, TimeSpan.FromSeconds(30), updateDueIndex: true);
        Assert.True(first.Recorded);
        Assert.Equal(T0.AddMinutes(60), first.Deadline);
        Assert.Equal([IncidentKind.Headphones, IncidentKind.ScreenShareStopped, IncidentKind.MicrophoneOff], first.Opened);
        Assert.Equal([new DueSession(id, T0.AddSeconds(75))], await s.Store.DueHeartbeatChecksAsync(T0.AddHours(1), 10));

        // Still breached: nothing new; headphones gone: closed; camera off: opened.
        var second = await s.Store.HeartbeatAsync(id, T0.AddSeconds(50), headphones: false, cameraOff: true, screenShareOff: true, focusLost: false, micOff: true, TimeSpan.FromSeconds(30), updateDueIndex: false);
        Assert.Equal([IncidentKind.CameraOff], second.Opened);

        var incidents = (await s.Store.GetIncidentsAsync(id)).ToDictionary(i => i.Kind);
        Assert.Equal(5, incidents.Count);
        Assert.Equal((T0, T0.AddSeconds(45), "lost"), (incidents[IncidentKind.ConnectionLost].StartedAt.ToDateTimeOffset(), incidents[IncidentKind.ConnectionLost].EndedAt.ToDateTimeOffset(), incidents[IncidentKind.ConnectionLost].Details));
        Assert.Equal(T0.AddSeconds(50), incidents[IncidentKind.Headphones].EndedAt.ToDateTimeOffset());
        Assert.Null(incidents[IncidentKind.ScreenShareStopped].EndedAt);
        Assert.Null(incidents[IncidentKind.CameraOff].EndedAt);
        Assert.Equal(5, await s.Store.CountIncidentsAsync(id));

        // The end of the session closes what is open; a heartbeat then records nothing, the gap check finds it gone.
        var session = (await s.Store.GetAsync(id))!;
        Assert.Equal(T0.AddSeconds(50), session.LastHeartbeat);
        await s.Store.FinishAsync(id, Ending(FinishMode.FinalCheck, session, T0.AddMinutes(1), SessionState.Submitted, 0));
        Assert.All(await s.Store.GetIncidentsAsync(id), i => Assert.NotNull(i.EndedAt));
        Assert.False((await s.Store.HeartbeatAsync(id, T0.AddMinutes(2), true, true, true, true, true, TimeSpan.FromSeconds(30), false)).Recorded);
        Assert.Equal(new GapCheck(GapStatus.Gone), await s.Store.CheckHeartbeatGapAsync(id, T0.AddMinutes(5), "lost"));
        Assert.False((await s.Store.HeartbeatAsync("ses-none-" + Guid.NewGuid().ToString("N"), T0, false, false, false, false, false, TimeSpan.FromSeconds(30), false)).Recorded);
        Assert.Equal(new GapCheck(GapStatus.Gone), await s.Store.CheckHeartbeatGapAsync("ses-none-" + Guid.NewGuid().ToString("N"), T0, "lost"));
    }

    [Fact]
    public async Task A_heartbeat_with_slack_delays_the_gap_check_and_the_flush_at_the_stream_end_records_the_true_last_heartbeat()
    {
        var s = New();
        var id = await StartAsync(s);
        var slack = TimeSpan.FromSeconds(15);

        // Written at T0+10 with 15 s of unwritten heartbeats possible after it: lost only past 10 + 30 + 15 s.
        Assert.True((await s.Store.HeartbeatAsync(id, T0.AddSeconds(10), false, false, false, false, false, TimeSpan.FromSeconds(30), true, slack)).Recorded);
        Assert.Equal(new GapCheck(GapStatus.Later, T0.AddSeconds(55)), await s.Store.CheckHeartbeatGapAsync(id, T0.AddSeconds(41), "lost"));
        var running = await s.Store.ReadForHeartbeatAsync(id);
        Assert.Equal((true, T0.AddMinutes(60)), (running.Recorded, running.Deadline));

        // The stream ends having seen one more at T0+20 (unwritten): recorded with no slack, lost at 20 + 30 s exactly.
        Assert.True(await s.Store.FlushHeartbeatAsync(id, T0.AddSeconds(20)));
        Assert.Equal(T0.AddSeconds(20), (await s.Store.GetAsync(id))!.LastHeartbeat);
        Assert.Equal(new GapCheck(GapStatus.Later, T0.AddSeconds(50)), await s.Store.CheckHeartbeatGapAsync(id, T0.AddSeconds(49.999), "lost"));
        // An older stream ending later changes nothing.
        Assert.False(await s.Store.FlushHeartbeatAsync(id, T0.AddSeconds(12)));
        Assert.Equal(new GapCheck(GapStatus.Opened), await s.Store.CheckHeartbeatGapAsync(id, T0.AddSeconds(50), "lost"));
        var lost = (await s.Store.GetIncidentsAsync(id)).Single(i => i.Kind == IncidentKind.ConnectionLost);
        Assert.Equal(T0.AddSeconds(20), lost.StartedAt.ToDateTimeOffset());

        // A finished session: the flush writes nothing, the read says not running.
        var session = (await s.Store.GetAsync(id))!;
        await s.Store.FinishAsync(id, Ending(FinishMode.FinalCheck, session, T0.AddMinutes(1), SessionState.Submitted, 0));
        Assert.False(await s.Store.FlushHeartbeatAsync(id, T0.AddMinutes(2)));
        Assert.False((await s.Store.ReadForHeartbeatAsync(id)).Recorded);
        Assert.False((await s.Store.ReadForHeartbeatAsync("ses-none-" + Guid.NewGuid().ToString("N"))).Recorded);
        Assert.False(await s.Store.FlushHeartbeatAsync("ses-none-" + Guid.NewGuid().ToString("N"), T0));
    }

    [Fact]
    public async Task The_final_check_refuses_a_wrong_sequence_a_changed_answer_and_the_deadline_then_finishes_once()
    {
        var s = New();
        var id = await StartAsync(s);
        await s.Store.SaveAsync(id, "q1", 4, "d4", Text("four"), T0.AddMinutes(1), MaxAhead);
        var read = (await s.Store.GetAsync(id))!;

        Assert.Equal(new FinishReply(FinishStatus.SequenceMismatch, LastAcked: 4), await s.Store.FinishAsync(id, Ending(FinishMode.FinalCheck, read, T0.AddMinutes(2), SessionState.Submitted, 3)));
        Assert.Equal(new FinishReply(FinishStatus.DeadlinePassed), await s.Store.FinishAsync(id, Ending(FinishMode.FinalCheck, read, T0.AddMinutes(60), SessionState.Submitted, 4)));

        // An answer saved after the read: the ending computed from the read is refused.
        await s.Store.SaveAsync(id, "q1", 5, "d5", Text("five"), T0.AddMinutes(2), MaxAhead);
        Assert.Equal(new FinishReply(FinishStatus.AnswersChanged), await s.Store.FinishAsync(id, Ending(FinishMode.FinalCheck, read, T0.AddMinutes(3), SessionState.Submitted, 5)));

        var fresh = (await s.Store.GetAsync(id))!;
        Assert.Equal(new FinishReply(FinishStatus.Finished), await s.Store.FinishAsync(id, Ending(FinishMode.FinalCheck, fresh, T0.AddMinutes(3), SessionState.Submitted, 5)));
        var done = (await s.Store.GetAsync(id))!;
        Assert.Equal((SessionState.Submitted, T0.AddMinutes(3), T0.AddMinutes(3), 1.0, 2.0, "finish-1", id),
            (done.State, done.SubmittedAt, done.FinishedAt, done.Score, done.MaxScore, done.FinishRequest, done.Receipt!.SessionId));
        // Out of the due indexes; its event is in the outbox, the session announced.
        Assert.Empty(await s.Store.DueDeadlinesAsync(T0.AddHours(2), 10));
        Assert.Empty(await s.Store.DueHeartbeatChecksAsync(T0.AddHours(2), 10));
        Assert.Contains(await s.Outbox.PendingAsync(10), p => p.SessionId == id);
        var claim = await s.Outbox.ClaimAsync(id, "holder", TimeSpan.FromSeconds(5));
        Assert.IsType<SessionExpired>(Assert.Single(claim.Items).Event);

        Assert.Equal(new FinishReply(FinishStatus.WrongState, State: SessionState.Submitted), await s.Store.FinishAsync(id, Ending(FinishMode.FinalCheck, done, T0.AddMinutes(4), SessionState.Submitted, 5)));
        Assert.Equal(new FinishReply(FinishStatus.Missing), await s.Store.FinishAsync("ses-none-" + Guid.NewGuid().ToString("N"), Ending(FinishMode.FinalCheck, done, T0, SessionState.Submitted, 5)));
    }

    [Fact]
    public async Task Expiry_waits_for_the_deadline_and_the_board_exception_needs_an_expired_unsubmitted_session()
    {
        var s = New();
        var id = await StartAsync(s);
        var read = (await s.Store.GetAsync(id))!;
        Assert.Equal(new FinishReply(FinishStatus.WrongState, State: SessionState.InProgress), await s.Store.FinishAsync(id, Ending(FinishMode.BoardException, read, T0.AddMinutes(1), SessionState.SubmittedByException)));
        Assert.Equal(new FinishReply(FinishStatus.TooEarly), await s.Store.FinishAsync(id, Ending(FinishMode.Expiry, read, T0.AddMinutes(59), SessionState.ExpiredUnsubmitted)));
        Assert.Equal(new FinishReply(FinishStatus.Finished), await s.Store.FinishAsync(id, Ending(FinishMode.Expiry, read, T0.AddMinutes(60), SessionState.ExpiredUnsubmitted)));
        var expired = (await s.Store.GetAsync(id))!;
        Assert.Equal((SessionState.ExpiredUnsubmitted, T0.AddMinutes(60)), (expired.State, expired.FinishedAt));

        var exception = new SubmissionException { Reason = "Outage", FailureReference = "INC-1", GrantedBy = "board-1", GrantedAt = Timestamp.FromDateTimeOffset(T0.AddHours(1)) };
        var grant = Ending(FinishMode.BoardException, expired, T0.AddHours(1), SessionState.SubmittedByException) with { Exception = exception };
        Assert.Equal(new FinishReply(FinishStatus.Finished), await s.Store.FinishAsync(id, grant));
        var granted = (await s.Store.GetAsync(id))!;
        Assert.Equal((SessionState.SubmittedByException, "INC-1", T0.AddMinutes(60)), (granted.State, granted.Exception!.FailureReference, granted.FinishedAt));
        Assert.Equal(new FinishReply(FinishStatus.AlreadyGranted), await s.Store.FinishAsync(id, grant));
    }

    [Fact]
    public async Task A_decision_needs_a_finished_session_and_the_version_in_force_and_a_retry_finds_its_own()
    {
        var s = New();
        var id = await StartAsync(s);
        BoardDecision Decision(long version) => new() { Version = version, Outcome = Contracts.Session.V1.DecisionOutcome.Valid, DecidedBy = "board-1", DecidedAt = Timestamp.FromDateTimeOffset(T0) };
        var evt = new BoardDecisionRecorded
        {
            EventId = Guid.NewGuid(), SessionId = id, ExamId = "exam", CourseId = "course", LearnerId = "learner-1", Version = 1,
            Outcome = Contracts.Events.DecisionOutcome.Valid, ReasonCode = string.Empty, ReasonText = string.Empty, DecidedBy = "board-1", DecidedAt = T0,
        };

        Assert.Equal(new DecisionReply(DecisionStatus.InProgress), await s.Store.DecideAsync(id, "r1", 0, Decision(1), evt, T0));
        Assert.Equal(new DecisionReply(DecisionStatus.Missing), await s.Store.DecideAsync("ses-none-" + Guid.NewGuid().ToString("N"), "r1", 0, Decision(1), evt, T0));
        await s.Store.FinishAsync(id, Ending(FinishMode.FinalCheck, (await s.Store.GetAsync(id))!, T0.AddMinutes(1), SessionState.Submitted, 0));

        Assert.Equal(new DecisionReply(DecisionStatus.Recorded, 1), await s.Store.DecideAsync(id, "r1", 0, Decision(1), evt, T0.AddMinutes(2)));
        Assert.Equal(new DecisionReply(DecisionStatus.Duplicate, 1), await s.Store.DecideAsync(id, "r1", 0, Decision(1), evt, T0.AddMinutes(3)));
        Assert.Equal(new DecisionReply(DecisionStatus.VersionMismatch, 1), await s.Store.DecideAsync(id, "r2", 0, Decision(1), evt, T0.AddMinutes(3)));
        Assert.Equal(new DecisionReply(DecisionStatus.Recorded, 2), await s.Store.DecideAsync(id, "r2", 1, Decision(2), evt, T0.AddMinutes(4)));

        Assert.Equal([1L, 2L], (await s.Store.GetDecisionsAsync(id)).Select(d => d.Version));
        Assert.Equal(2, (await s.Store.GetAsync(id))!.DecisionVersion);
        // The final check's event, then one per decision, in order.
        var claim = await s.Outbox.ClaimAsync(id, "holder", TimeSpan.FromSeconds(5));
        Assert.Equal([typeof(SessionExpired), typeof(BoardDecisionRecorded), typeof(BoardDecisionRecorded)], claim.Items.Select(i => i.Type));
    }

    [Fact]
    public async Task Extra_time_moves_the_deadline_of_a_running_session_only()
    {
        var s = New();
        var id = await StartAsync(s);
        Assert.Equal(T0.AddMinutes(75), await s.Store.ExtendDeadlineAsync(id, TimeSpan.FromMinutes(15)));
        Assert.Equal(T0.AddMinutes(75), (await s.Store.GetAsync(id))!.Deadline);
        Assert.Equal([new DueSession(id, T0.AddMinutes(75))], await s.Store.DueDeadlinesAsync(T0.AddHours(2), 10));

        await s.Store.FinishAsync(id, Ending(FinishMode.FinalCheck, (await s.Store.GetAsync(id))!, T0.AddMinutes(1), SessionState.Submitted, 0));
        Assert.Null(await s.Store.ExtendDeadlineAsync(id, TimeSpan.FromMinutes(30)));
        Assert.Null(await s.Store.ExtendDeadlineAsync("ses-none-" + Guid.NewGuid().ToString("N"), TimeSpan.FromMinutes(30)));
    }

    [Fact]
    public async Task An_attempt_is_claimed_only_over_the_attempt_read_and_within_the_limit_and_released_only_by_its_own_start()
    {
        var s = New();
        var exam = "exam-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Null(await s.Store.GetClaimAsync(exam, "learner-1"));
        Assert.Equal(new AttemptClaim(AttemptClaimStatus.Claimed, "ses-a", 1), await s.Store.ClaimAttemptAsync(exam, "learner-1", "ses-a", null, false, 2));
        // Another start that read no claim, or another attempt than the one the claim names, reads it again.
        Assert.Equal(new AttemptClaim(AttemptClaimStatus.Held, "ses-a"), await s.Store.ClaimAttemptAsync(exam, "learner-1", "ses-b", null, false, 2));
        Assert.Equal(new AttemptClaim(AttemptClaimStatus.Held, "ses-a"), await s.Store.ClaimAttemptAsync(exam, "learner-1", "ses-b", "ses-x", false, 2));
        // A start giving up releases only its own claim; its claim goes back to the attempt before it.
        Assert.Equal(new AttemptClaim(AttemptClaimStatus.Claimed, "ses-b", 2), await s.Store.ClaimAttemptAsync(exam, "learner-1", "ses-b", "ses-a", false, 2));
        await s.Store.ReleaseClaimAsync(exam, "learner-1", "ses-z", "ses-a");
        Assert.Equal("ses-b", await s.Store.GetClaimAsync(exam, "learner-1"));
        await s.Store.ReleaseClaimAsync(exam, "learner-1", "ses-b", "ses-a");
        Assert.Equal("ses-a", await s.Store.GetClaimAsync(exam, "learner-1"));
        Assert.Equal(0, await s.Store.AttemptNumberAsync(exam, "learner-1", "ses-b"));

        // Two attempts of two: the third is refused with the count; a reset one gives its attempt back and keeps its number.
        Assert.Equal(new AttemptClaim(AttemptClaimStatus.Claimed, "ses-c", 2), await s.Store.ClaimAttemptAsync(exam, "learner-1", "ses-c", "ses-a", false, 2));
        Assert.Equal(new AttemptClaim(AttemptClaimStatus.Exhausted, Used: 2), await s.Store.ClaimAttemptAsync(exam, "learner-1", "ses-d", "ses-c", false, 2));
        await s.Store.GiveBackAttemptAsync(exam, "learner-1", "ses-a");
        Assert.Equal(1, await s.Store.AttemptNumberAsync(exam, "learner-1", "ses-a"));
        Assert.Equal(new AttemptClaim(AttemptClaimStatus.Claimed, "ses-d", 3), await s.Store.ClaimAttemptAsync(exam, "learner-1", "ses-d", "ses-c", false, 2));
        Assert.Equal(new AttemptClaim(AttemptClaimStatus.Exhausted, Used: 2), await s.Store.ClaimAttemptAsync(exam, "learner-1", "ses-e", "ses-d", false, 2));
        // A claim read marked reset (its reset cut off before giving the attempt back) is given back by the start.
        Assert.Equal(new AttemptClaim(AttemptClaimStatus.Claimed, "ses-e", 4), await s.Store.ClaimAttemptAsync(exam, "learner-1", "ses-e", "ses-d", true, 2));

        // A claim written before attempts were counted counts as one; releasing the last attempt leaves no key.
        var legacy = "exam-" + Guid.NewGuid().ToString("N")[..8];
        await s.Storage.Database.StringSetAsync(s.Keys.Claim(legacy, "learner-2"), "ses-old");
        Assert.Equal(new AttemptClaim(AttemptClaimStatus.Exhausted, Used: 1), await s.Store.ClaimAttemptAsync(legacy, "learner-2", "ses-new", "ses-old", false, 1));
        Assert.Equal(new AttemptClaim(AttemptClaimStatus.Claimed, "ses-new", 2), await s.Store.ClaimAttemptAsync(legacy, "learner-2", "ses-new", "ses-old", false, 2));
        await s.Store.ReleaseClaimAsync(legacy, "learner-2", "ses-new");
        await s.Store.ReleaseClaimAsync(legacy, "learner-2", "ses-old");
        var (claim, attempts, spent) = s.Keys.AttemptKeys(legacy, "learner-2");
        Assert.False(await s.Storage.Database.KeyExistsAsync(claim) || await s.Storage.Database.KeyExistsAsync(attempts) || await s.Storage.Database.KeyExistsAsync(spent));
    }

    [Fact]
    public async Task Concurrent_claims_over_the_same_attempt_take_one_new_attempt()
    {
        var s = New();
        var exam = "exam-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(AttemptClaimStatus.Claimed, (await s.Store.ClaimAttemptAsync(exam, "learner-1", "ses-0", null, false, 3)).Status);
        var claims = await Task.WhenAll(Enumerable.Range(1, 20).Select(i => s.Store.ClaimAttemptAsync(exam, "learner-1", "ses-" + i, "ses-0", false, 3)));
        var won = Assert.Single(claims, c => c.Status == AttemptClaimStatus.Claimed);
        Assert.Equal(2, won.Number);
        Assert.All(claims.Where(c => c != won), c => Assert.Equal(new AttemptClaim(AttemptClaimStatus.Held, won.SessionId), c));
    }

    [Fact]
    public async Task A_due_entry_leaves_its_index_only_if_it_did_not_move_since_it_was_read()
    {
        var s = New();
        var id = await StartAsync(s);
        var due = Assert.Single(await s.Store.DueHeartbeatChecksAsync(T0.AddHours(1), 10));
        await s.Store.PostponeHeartbeatCheckAsync(id, T0.AddMinutes(5));
        await s.Store.PostponeHeartbeatCheckAsync(id, T0.AddMinutes(1)); // never earlier
        await s.Store.RemoveHeartbeatCheckAsync(due);
        var moved = Assert.Single(await s.Store.DueHeartbeatChecksAsync(T0.AddHours(1), 10));
        Assert.Equal(T0.AddMinutes(5), moved.Due);
        await s.Store.RemoveHeartbeatCheckAsync(moved);
        Assert.Empty(await s.Store.DueHeartbeatChecksAsync(T0.AddHours(1), 10));

        var deadline = Assert.Single(await s.Store.DueDeadlinesAsync(T0.AddHours(2), 10));
        await s.Store.ExtendDeadlineAsync(id, TimeSpan.FromMinutes(5));
        await s.Store.RemoveDeadlineAsync(deadline);
        var extended = Assert.Single(await s.Store.DueDeadlinesAsync(T0.AddHours(2), 10));
        await s.Store.RemoveDeadlineAsync(extended);
        Assert.Empty(await s.Store.DueDeadlinesAsync(T0.AddHours(2), 10));
    }
}
