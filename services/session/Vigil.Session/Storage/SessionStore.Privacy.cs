using System.Globalization;
using Google.Protobuf;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Storage;

namespace Vigil.Session.Storage;

/// <summary>What erasing one session did.</summary>
internal enum SessionErasure
{
    /// <summary>Erased now; its erased record is in place.</summary>
    Erased,
    /// <summary>It changed since it was read (a decision, its end): read it again.</summary>
    Changed,
    /// <summary>It belongs to another learner: left alone.</summary>
    OtherLearner,
    /// <summary>Already erased (only its erased record is left).</summary>
    AlreadyErased,
    /// <summary>No such session (never created, or its retention ended).</summary>
    Gone,
}

/// <summary>What is left of a session whose learner's data was erased: what the board may still see, and its times.</summary>
internal sealed record ErasedSession(string SessionId, string CourseId, SessionRecord Record, DateTimeOffset Deadline, DateTimeOffset? LastDecidedAt, DateTimeOffset ErasedAt);

/// <summary>What the retention sweeper needs of a session: when it ended, its latest decision, where it is indexed (its attempt too).</summary>
internal sealed record RetentionView(
    string SessionId, bool Erased, SessionState State, long DecisionVersion, DateTimeOffset StartedAt, DateTimeOffset Deadline, DateTimeOffset? LastDecidedAt,
    string ExamId, string CourseId, string LearnerId, int Attempt = 0, bool Reset = false);

/// <summary>What a retention purge deleted.</summary>
internal enum PurgeStatus
{
    /// <summary>The session and everything it held.</summary>
    Purged,
    /// <summary>What was left of an erased session.</summary>
    PurgedErased,
    /// <summary>It changed since it was read (a decision), is running, or still has events to relay: not now.</summary>
    Changed,
    /// <summary>Nothing there.</summary>
    Gone,
}

/// <summary>What a retention purge deleted, with the counts of a whole session.</summary>
internal sealed record PurgeResult(PurgeStatus Status, long Answers = 0, long Incidents = 0, long Decisions = 0);

/// <summary>The session store's side of erasure and retention (docs/privacy.md).</summary>
internal sealed partial class SessionStore
{
    private static readonly RedisScript EraseSessionScript = RedisScript.Load<SessionStore>("EraseSession");
    private static readonly RedisScript PurgeSessionScript = RedisScript.Load<SessionStore>("PurgeSession");

    // ---- a learner's sessions ----

    /// <summary>
    /// The ids of a learner's sessions (the index may hold ids whose session is gone: readers check); with
    /// <paramref name="startedNotAfter"/>, only those started by then (an erasure request redelivered after the learner
    /// came back must leave their new sessions alone).
    /// </summary>
    public async Task<IReadOnlyList<string>> GetLearnerSessionIdsAsync(string learnerId, DateTimeOffset? startedNotAfter = null) =>
        (await Db.SortedSetRangeByRankAsync(keys.LearnerSessions(learnerId)))
            .Select(v => v.ToString())
            .Where(m => startedNotAfter is not { } bound || LearnerMemberStartedMs(m) is not { } started || started <= bound.ToUnixTimeMilliseconds())
            .Select(LearnerMemberSession).Order(StringComparer.Ordinal).ToList();

    /// <summary>The start time (ms) of a member of a learner's index ("startedAtMs|sessionId"), or null for a bare id.</summary>
    private static long? LearnerMemberStartedMs(string member) =>
        ReviewMemberSession(member) is not null ? long.Parse(member.AsSpan(0, 13), System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>Takes a session out of its learner's index (the key goes with its last member). A learner has a few sessions: the member is found by reading them.</summary>
    public async Task RemoveFromLearnerAsync(string learnerId, string sessionId)
    {
        var members = (await Db.SortedSetRangeByRankAsync(keys.LearnerSessions(learnerId))).Where(v => LearnerMemberSession(v.ToString()) == sessionId).ToArray();
        if (members.Length > 0) await storage.WriteAsync(keys.LearnerSessions(learnerId), (db, k) => db.SortedSetRemoveAsync(k, members));
    }

    /// <summary>The session id of a member of a learner's index ("startedAtMs|sessionId").</summary>
    private static string LearnerMemberSession(string member) => ReviewMemberSession(member) ?? member;

    // ---- erasure ----

    /// <summary>
    /// Erases one session of <paramref name="learnerId"/> as read (<paramref name="read"/>, with its decisions): the
    /// personal data goes and <paramref name="erased"/> takes its place, in one step, if nothing changed since.
    /// </summary>
    public async Task<SessionErasure> EraseSessionAsync(SessionData read, ErasedSession erased)
    {
        var k = keys.Session(read.SessionId);
        var reply = (await storage.WriteAsync(k.Hash, EraseSessionScript, new
        {
            session = k.Hash,
            answers = k.Answers,
            answerMeta = k.AnswerMeta,
            incidents = k.Incidents,
            openIncidents = k.OpenIncidents,
            decisions = k.Decisions,
            requests = k.Requests,
            outbox = k.Outbox,
            erased = k.Erased,
            secondLooks = k.SecondLooks,
            learnerId = read.LearnerId,
            state = ((int)read.State).ToString(CultureInfo.InvariantCulture),
            decisionVersion = read.DecisionVersion,
            record = erased.Record.ToByteArray(),
            courseId = erased.CourseId,
            deadline = erased.Deadline.ToUnixTimeMilliseconds(),
            decidedAt = erased.LastDecidedAt?.ToUnixTimeMilliseconds() ?? 0,
            erasedAt = erased.ErasedAt.ToUnixTimeMilliseconds(),
        })).ToString();
        return reply switch
        {
            "erased" => SessionErasure.Erased,
            "changed" => SessionErasure.Changed,
            "other" => SessionErasure.OtherLearner,
            "already" => SessionErasure.AlreadyErased,
            "gone" => SessionErasure.Gone,
            var other => throw Unexpected(EraseSessionScript, other),
        };
    }

    /// <summary>Removes an erased session from the deadline and heartbeat indexes (a session erased while running).</summary>
    public async Task DropFromDueIndexesAsync(string sessionId)
    {
        await storage.WriteAsync(keys.Deadlines, (db, k) => db.SortedSetRemoveAsync(k, sessionId));
        await storage.WriteAsync(keys.HeartbeatDue, (db, k) => db.SortedSetRemoveAsync(k, sessionId));
    }

    /// <summary>What is left of an erased session, or null (not erased, or gone).</summary>
    public async Task<ErasedSession?> GetErasedAsync(string sessionId)
    {
        if (string.IsNullOrEmpty(sessionId)) return null;
        var h = (await Db.HashGetAllAsync(keys.Session(sessionId).Erased)).ToDictionary(e => e.Name.ToString(), e => e.Value);
        if (!h.TryGetValue("record", out var record) || record.IsNullOrEmpty) return null;
        return new ErasedSession(
            sessionId,
            h.GetValueOrDefault("course_id").ToString(),
            SessionRecord.Parser.ParseFrom((byte[])record!),
            Ms(h.GetValueOrDefault("deadline")),
            OptionalMs(h.GetValueOrDefault("decided_at")),
            Ms(h.GetValueOrDefault("erased_at")));
    }

    // ---- retention ----

    /// <summary>The sessions whose retention may end at or before <paramref name="now"/> (a hint: the sweeper checks), earliest first.</summary>
    public Task<IReadOnlyList<DueSession>> DueRetentionAsync(DateTimeOffset now, int take) => DueAsync(keys.RetentionDue, now, take);

    /// <summary>Moves a session's retention entry to <paramref name="due"/>.</summary>
    public Task RescheduleRetentionAsync(string sessionId, DateTimeOffset due) =>
        storage.WriteAsync(keys.RetentionDue, (db, k) => db.SortedSetAddAsync(k, sessionId, due.ToUnixTimeMilliseconds()));

    /// <summary>Removes a session's retention entry unless it moved since it was read.</summary>
    public Task RemoveRetentionEntryAsync(DueSession entry) => RemoveDueAsync(keys.RetentionDue, entry);

    /// <summary>A session as the retention sweeper sees it (live or erased), or null when nothing is left.</summary>
    public async Task<RetentionView?> GetRetentionViewAsync(string sessionId)
    {
        if (await GetAsync(sessionId) is { } session)
        {
            DateTimeOffset? decided = null;
            if (session.DecisionVersion > 0)
            {
                var last = await Db.ListGetByIndexAsync(keys.Session(sessionId).Decisions, -1);
                if (!last.IsNullOrEmpty) decided = BoardDecision.Parser.ParseFrom((byte[])last!).DecidedAt?.ToDateTimeOffset();
            }
            return new RetentionView(sessionId, false, session.State, session.DecisionVersion, session.StartedAt, session.Deadline, decided, session.ExamId, session.CourseId, session.LearnerId,
                session.Attempt, session.ResetAt is not null);
        }
        if (await GetErasedAsync(sessionId) is { } erased)
        {
            return new RetentionView(sessionId, true, erased.Record.Session?.State ?? SessionState.Unspecified, 0,
                erased.Record.Session?.StartedAt?.ToDateTimeOffset() ?? erased.Deadline, erased.Deadline, erased.LastDecidedAt,
                erased.Record.Session?.ExamId ?? string.Empty, erased.CourseId, string.Empty);
        }
        return null;
    }

    /// <summary>
    /// Before a purge: takes the session out of the indexes that name it in other slots (the learner's claim on the
    /// exam, the learner's and the course's session indexes). Idempotent; a crash before the purge repeats it.
    /// </summary>
    public async Task UnindexAsync(RetentionView view)
    {
        if (view.LearnerId.Length > 0)
        {
            await ReleaseClaimAsync(view.ExamId, view.LearnerId, view.SessionId);
            await RemoveFromLearnerAsync(view.LearnerId, view.SessionId);
        }
        if (view.CourseId.Length > 0)
        {
            await storage.WriteAsync(keys.CourseSessions(view.CourseId), (db, k) => db.SortedSetRemoveAsync(k, view.SessionId));
        }
    }

    /// <summary>Puts a session back in the indexes <see cref="UnindexAsync"/> took it out of (its purge was refused: it changed).</summary>
    public async Task ReindexAsync(RetentionView view)
    {
        if (view.LearnerId.Length > 0)
        {
            await storage.WriteAsync(keys.LearnerSessions(view.LearnerId), (db, k) => db.SortedSetAddAsync(k, LearnerMember(view.StartedAt, view.SessionId), 0));
            await RecountAttemptAsync(view.ExamId, view.LearnerId, view.SessionId, view.Attempt, view.Reset);
        }
        if (view.CourseId.Length > 0)
        {
            await storage.WriteAsync(keys.CourseSessions(view.CourseId), (db, k) => db.SortedSetAddAsync(k, view.SessionId, view.StartedAt.ToUnixTimeMilliseconds()));
        }
    }

    /// <summary>Deletes a session whose retention ended (or what is left of it after an erasure), if it is still as read.</summary>
    public async Task<PurgeResult> PurgeAsync(RetentionView view)
    {
        var k = keys.Session(view.SessionId);
        var r = (RedisResult[])(await storage.WriteAsync(k.Hash, PurgeSessionScript, new
        {
            session = k.Hash,
            answers = k.Answers,
            answerMeta = k.AnswerMeta,
            incidents = k.Incidents,
            openIncidents = k.OpenIncidents,
            decisions = k.Decisions,
            requests = k.Requests,
            outbox = k.Outbox,
            erased = k.Erased,
            secondLooks = k.SecondLooks,
            audit = k.Audit,
            decisionVersion = view.DecisionVersion,
        }))!;
        var result = Text(r[0]) switch
        {
            "purged" => new PurgeResult(PurgeStatus.Purged, Number(r[1]), Number(r[2]), Number(r[3])),
            "purged-erased" => new PurgeResult(PurgeStatus.PurgedErased),
            "changed" => new PurgeResult(PurgeStatus.Changed),
            "gone" => new PurgeResult(PurgeStatus.Gone),
            var other => throw Unexpected(PurgeSessionScript, other),
        };
        // Gone for good: out of the board's review lists too, after the purge (a crash in between leaves an entry that
        // readers find without a session and drop).
        if (result.Status is PurgeStatus.Purged or PurgeStatus.PurgedErased && view.CourseId.Length > 0)
        {
            await UnindexForReviewAsync(view.CourseId, view.SessionId);
        }
        return result;
    }

    private static DateTimeOffset Ms(RedisValue v) =>
        DateTimeOffset.FromUnixTimeMilliseconds(v.IsNullOrEmpty ? 0 : long.Parse(v.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture));

    private static DateTimeOffset? OptionalMs(RedisValue v) => v.IsNullOrEmpty || v == 0 ? null : Ms(v);
}
