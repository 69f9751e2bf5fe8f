using System.Globalization;
using Google.Protobuf;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Audit;
using Vigil.Session.Answers;
using Vigil.Session.Exams;
using Vigil.Session.Outbox;
using Vigil.Session.Review;

namespace Vigil.Session.Storage;

/// <summary>
/// A new session, as the start writes it: the learner's name and email as identity registered them, and the photos
/// accepted at that moment (pinned: the board sees these, whatever is uploaded later). The learner's allowance as it
/// was at the start: <see cref="Grace"/> after the deadline (saves still accepted; the session ends at deadline + grace),
/// the <see cref="TimeMultiplier"/> the deadline was computed with, and whether headphones are allowed to this learner.
/// <see cref="Attempt"/>: which attempt of the learner at the exam (1 for the first).
/// </summary>
internal sealed record NewSession(
    string SessionId, Exam Exam, string LearnerId, string LearnerName, string LearnerEmail, DateTimeOffset StartedAt, DateTimeOffset Deadline,
    PinnedEvidence? IdDocumentPhoto, PinnedEvidence? FacePhoto, string StartRequest,
    TimeSpan Grace = default, double TimeMultiplier = 1, bool AllowHeadphones = false, int Attempt = 0);

/// <summary>What claiming a new attempt did.</summary>
internal enum AttemptClaimStatus
{
    /// <summary>Claimed: <see cref="AttemptClaim.SessionId"/> is the learner's attempt number <see cref="AttemptClaim.Number"/>.</summary>
    Claimed,
    /// <summary>The claim names another attempt than the one read (<see cref="AttemptClaim.SessionId"/>): read it again.</summary>
    Held,
    /// <summary>The exam's attempts are used up (<see cref="AttemptClaim.Used"/> attempts not reset).</summary>
    Exhausted,
}

/// <summary>What claiming a new attempt did, with the session the claim names and the attempt's number, or the attempts used.</summary>
internal sealed record AttemptClaim(AttemptClaimStatus Status, string SessionId = "", int Number = 0, int Used = 0);

/// <summary>A verification photo pinned to a session at its start: its id in identity and the SHA-256 of its image bytes.</summary>
internal sealed record PinnedEvidence(string PhotoId, string Sha256, DateTimeOffset TakenAt)
{
    /// <summary>The stored form, "photoId|sha256|takenAtMs"; empty for none.</summary>
    internal static string Format(PinnedEvidence? p) =>
        p is null ? string.Empty : p.PhotoId + "|" + p.Sha256 + "|" + p.TakenAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads the stored form; null for empty or unreadable.</summary>
    internal static PinnedEvidence? Parse(string stored)
    {
        var parts = stored.Split('|');
        if (parts.Length != 3 || parts[0].Length == 0 || !long.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)) return null;
        return new PinnedEvidence(parts[0], parts[1], DateTimeOffset.FromUnixTimeMilliseconds(ms));
    }
}

/// <summary>What a save did.</summary>
internal enum SaveStatus
{
    /// <summary>Stored: the answer is on disk.</summary>
    Stored,
    /// <summary>The same sequence and answer were already stored (a resend).</summary>
    Duplicate,
    /// <summary>The question holds a newer sequence: nothing written; the stored digest is returned.</summary>
    Stale,
    /// <summary>The same sequence was used for another answer to this question: refused.</summary>
    Conflict,
    /// <summary>A sequence at or below the last acknowledged one that is no resend: it was used for another save. Refused.</summary>
    Reused,
    /// <summary>A sequence too far past the last acknowledged one: refused.</summary>
    TooFarAhead,
    /// <summary>The session has ended (<see cref="SaveResult.ClosedState"/> says how).</summary>
    Closed,
    /// <summary>The deadline has passed.</summary>
    DeadlinePassed,
    /// <summary>No such session.</summary>
    Missing,
}

/// <summary>
/// What a save did: the digest now stored for the question (stored, duplicate, stale: the one acknowledged; conflict:
/// the one kept), the last acknowledged sequence of the session (stored, duplicate, stale), the state of a closed session.
/// </summary>
internal sealed record SaveResult(SaveStatus Status, string Digest = "", long LastAcked = 0, SessionState? ClosedState = null)
{
    /// <summary>Whether the save may be acknowledged (it is durable).</summary>
    public bool Acknowledged => Status is SaveStatus.Stored or SaveStatus.Duplicate or SaveStatus.Stale;
}

/// <summary>What a heartbeat did: recorded (with the current deadline and the rule incidents it opened), or not (the session ended or is missing).</summary>
internal sealed record HeartbeatResult(bool Recorded, DateTimeOffset Deadline, IReadOnlyList<IncidentKind> Opened);

/// <summary>How a session ends.</summary>
internal enum FinishMode
{
    /// <summary>The learner's final check (before the deadline, with the last acknowledged sequence).</summary>
    FinalCheck,
    /// <summary>The deadline passed: the exam's policy applies.</summary>
    Expiry,
    /// <summary>The board accepts the saved answers of an expired, unsubmitted session.</summary>
    BoardException,
}

/// <summary>
/// The end of a session, computed from the session and its answers as read at revision <see cref="ExpectedRev"/>:
/// written only if no answer changed since. <see cref="Event"/> goes to the outbox (none for a practice exam's session), <see cref="Audit"/> (the board's
/// exception) to the session's audit entries, in the same step.
/// </summary>
internal sealed record SessionEnding(
    FinishMode Mode, long ExpectedRev, DateTimeOffset Now, SessionState NewState, long LastSaveSequence, Receipt? Receipt,
    double Score, double MaxScore, object? Event, string RequestId, SubmissionException? Exception, AuditWrite? Audit = null);

/// <summary>What an attempt to end a session did.</summary>
internal enum FinishStatus
{
    /// <summary>Ended now.</summary>
    Finished,
    /// <summary>An answer changed since the ending was computed: compute it again.</summary>
    AnswersChanged,
    /// <summary>The board exception was already granted.</summary>
    AlreadyGranted,
    /// <summary>The session's state does not allow it (<see cref="FinishReply.State"/>).</summary>
    WrongState,
    /// <summary>Final check: the deadline has passed.</summary>
    DeadlinePassed,
    /// <summary>Final check: the server's last acknowledged sequence is another (<see cref="FinishReply.LastAcked"/>).</summary>
    SequenceMismatch,
    /// <summary>Expiry: the deadline has not passed (it moved).</summary>
    TooEarly,
    /// <summary>No such session.</summary>
    Missing,
}

/// <summary>What an attempt to end a session did, with the server's last acknowledged sequence or the current state where it says.</summary>
internal sealed record FinishReply(FinishStatus Status, long LastAcked = 0, SessionState? State = null);

/// <summary>What recording a board decision did.</summary>
internal enum DecisionStatus
{
    /// <summary>Recorded, with its event in the outbox.</summary>
    Recorded,
    /// <summary>This request already recorded a decision (<see cref="DecisionReply.Version"/>).</summary>
    Duplicate,
    /// <summary>The decision in force is another version (<see cref="DecisionReply.Version"/>).</summary>
    VersionMismatch,
    /// <summary>The session is still in progress.</summary>
    InProgress,
    /// <summary>The deciding member asked for the open second look: another member must decide (<see cref="DecisionReply.Member"/>).</summary>
    SameMember,
    /// <summary>The second looks changed since they were read: read them again.</summary>
    SecondLookChanged,
    /// <summary>No such session.</summary>
    Missing,
}

/// <summary>What recording a board decision did, with the version it names.</summary>
internal sealed record DecisionReply(DecisionStatus Status, long Version = 0, string Member = "");

/// <summary>A session in a due index (deadlines, heartbeat-due), with the time it is due as read.</summary>
internal sealed record DueSession(string SessionId, DateTimeOffset Due);

/// <summary>What the heartbeat-gap check of a session found.</summary>
internal enum GapStatus
{
    /// <summary>The session ended or is missing: its entry can go.</summary>
    Gone,
    /// <summary>Heartbeats still flow: the check is due again later (<see cref="GapCheck.Due"/>).</summary>
    Later,
    /// <summary>A connection-lost incident is already open.</summary>
    AlreadyOpen,
    /// <summary>A connection-lost incident was opened now.</summary>
    Opened,
}

/// <summary>What the heartbeat-gap check found, with the next due time when <see cref="GapStatus.Later"/>.</summary>
internal sealed record GapCheck(GapStatus Status, DateTimeOffset? Due = null);

/// <summary>
/// Sessions in Redis: the session hash and its parts (one hash tag), the course, deadline and heartbeat-due indexes,
/// the learner's claim on an exam. Every change of a session is one Lua script (<c>*.lua</c> beside this file); every
/// write goes through <see cref="RedisStorage"/>; callers get records and enums.
/// </summary>
internal sealed partial class SessionStore(RedisStorage storage, SessionKeys keys, OutboxSignal outboxSignal)
{
    private static readonly RedisScript CreateScript = RedisScript.Load<SessionStore>("CreateSession");
    private static readonly RedisScript SaveScript = RedisScript.Load<SessionStore>("Save");
    private static readonly RedisScript HeartbeatScript = RedisScript.Load<SessionStore>("Heartbeat");
    private static readonly RedisScript HeartbeatGapScript = RedisScript.Load<SessionStore>("HeartbeatGap");
    private static readonly RedisScript HeartbeatFlushScript = RedisScript.Load<SessionStore>("HeartbeatFlush");
    private static readonly RedisScript FinishScript = RedisScript.Load<SessionStore>("Finish");
    private static readonly RedisScript DecideScript = RedisScript.Load<SessionStore>("Decide");
    private static readonly RedisScript ExtendDeadlineScript = RedisScript.Load<SessionStore>("ExtendDeadline");
    private static readonly RedisScript ApplyAllowanceScript = RedisScript.Load<SessionStore>("ApplyAllowance");
    private static readonly RedisScript ReleaseClaimScript = RedisScript.Load<SessionStore>("ReleaseClaim");
    private static readonly RedisScript ClaimAttemptScript = RedisScript.Load<SessionStore>("ClaimAttempt");
    private static readonly RedisScript RemoveDueEntryScript = RedisScript.Load<SessionStore>("RemoveDueEntry");
    private static readonly RedisScript ReviewIndexScript = RedisScript.LoadVariadic<SessionStore>("ReviewIndex");
    private static readonly RedisScript ReviewUnindexScript = RedisScript.LoadVariadic<SessionStore>("ReviewUnindex");

    /// <summary>Every script of the store (tests run each branch of each).</summary>
    internal static IReadOnlyList<RedisScript> Scripts =>
        [CreateScript, SaveScript, HeartbeatScript, HeartbeatGapScript, HeartbeatFlushScript, FinishScript, DecideScript, ExtendDeadlineScript, ApplyAllowanceScript, ClaimAttemptScript, ReleaseClaimScript, RemoveDueEntryScript, EraseSessionScript, PurgeSessionScript, ReviewIndexScript, ReviewUnindexScript, ReportProblemScript, RequestSecondLookScript, ResetAttemptScript];

    private IDatabase Db => storage.Database;

    // ---- reads ----

    /// <summary>A session, or null.</summary>
    public async Task<SessionData?> GetAsync(string sessionId)
    {
        if (string.IsNullOrEmpty(sessionId)) return null;
        return SessionData.From(sessionId, await Db.HashGetAllAsync(keys.Session(sessionId).Hash));
    }

    /// <summary>The stored answers of a session.</summary>
    public async Task<Dictionary<string, StoredAnswer>> GetAnswersAsync(string sessionId)
    {
        var k = keys.Session(sessionId);
        var answers = Db.HashGetAllAsync(k.Answers);
        var meta = Db.HashGetAllAsync(k.AnswerMeta);
        return StoredFormats.Answers(await answers, await meta);
    }

    /// <summary>How many answers a session has saved.</summary>
    public Task<long> CountAnswersAsync(string sessionId) => Db.HashLengthAsync(keys.Session(sessionId).Answers);

    /// <summary>The incidents of a session.</summary>
    public async Task<List<Incident>> GetIncidentsAsync(string sessionId) =>
        StoredFormats.Incidents(await Db.HashGetAllAsync(keys.Session(sessionId).Incidents));

    /// <summary>How many incidents a session has.</summary>
    public Task<long> CountIncidentsAsync(string sessionId) => Db.HashLengthAsync(keys.Session(sessionId).Incidents);

    /// <summary>A course's session ids, oldest start first.</summary>
    public async Task<List<string>> ListCourseSessionsAsync(string courseId) =>
        (await Db.SortedSetRangeByRankAsync(keys.CourseSessions(courseId))).Select(v => v.ToString()).ToList();

    /// <summary>The board's decisions on a session, oldest first.</summary>
    public async Task<List<BoardDecision>> GetDecisionsAsync(string sessionId) =>
        (await Db.ListRangeAsync(keys.Session(sessionId).Decisions)).Select(v => BoardDecision.Parser.ParseFrom((byte[])v!)).ToList();

    /// <summary>The session a learner holds for an exam, if any.</summary>
    public async Task<string?> GetClaimAsync(string examId, string learnerId)
    {
        var v = await Db.StringGetAsync(keys.Claim(examId, learnerId));
        return v.IsNullOrEmpty ? null : v.ToString();
    }

    // ---- start ----

    /// <summary>
    /// Claims a new attempt (<paramref name="sessionId"/>) of a learner at an exam, if the claim still names
    /// <paramref name="expected"/> (the attempt read as ended, null for none) and fewer than <paramref name="limit"/>
    /// attempts not reset were started; counted and claimed in one step.
    /// </summary>
    public async Task<AttemptClaim> ClaimAttemptAsync(string examId, string learnerId, string sessionId, string? expected, bool expectedReset, int limit)
    {
        var (claim, attempts, spent) = keys.AttemptKeys(examId, learnerId);
        var r = (RedisResult[])(await storage.WriteAsync(claim, ClaimAttemptScript, new
        {
            claim,
            attempts,
            spent,
            sessionId,
            expected = expected ?? string.Empty,
            expectedReset = expectedReset ? "1" : "0",
            limit,
        }))!;
        return Text(r[0]) switch
        {
            "ok" => new AttemptClaim(AttemptClaimStatus.Claimed, sessionId, (int)Number(r[1])),
            "held" => new AttemptClaim(AttemptClaimStatus.Held, Text(r[1])),
            "exhausted" => new AttemptClaim(AttemptClaimStatus.Exhausted, Used: (int)Number(r[1])),
            var other => throw Unexpected(ClaimAttemptScript, other),
        };
    }

    /// <summary>The number of a learner's attempt at an exam (0 when it is not counted).</summary>
    public async Task<int> AttemptNumberAsync(string examId, string learnerId, string sessionId)
    {
        var v = await Db.HashGetAsync(keys.AttemptKeys(examId, learnerId).Attempts, sessionId);
        return v.IsNullOrEmpty ? 0 : (int)v;
    }

    /// <summary>A reset attempt no longer counts against the exam's limit (it keeps its number; the claim stays).</summary>
    public Task GiveBackAttemptAsync(string examId, string learnerId, string sessionId) =>
        storage.WriteAsync(keys.AttemptKeys(examId, learnerId).Spent, (db, k) => db.SetRemoveAsync(k, sessionId));

    /// <summary>
    /// Forgets an attempt (a start that is giving up, a session erased or purged): it no longer counts nor numbers; the
    /// claim, if it still names the session, goes back to <paramref name="previous"/> (null: none).
    /// </summary>
    public Task ReleaseClaimAsync(string examId, string learnerId, string sessionId, string? previous = null)
    {
        var (claim, attempts, spent) = keys.AttemptKeys(examId, learnerId);
        return storage.WriteAsync(claim, ReleaseClaimScript, new { claim, attempts, spent, sessionId, previous = previous ?? string.Empty });
    }

    /// <summary>Counts a session as an attempt again (a purge that was refused put it back), with its number; not when it was reset.</summary>
    public async Task RecountAttemptAsync(string examId, string learnerId, string sessionId, int number, bool reset)
    {
        var (claim, attempts, spent) = keys.AttemptKeys(examId, learnerId);
        await storage.WriteAsync(claim, (db, k) => db.StringSetAsync(k, sessionId, when: When.NotExists));
        if (number > 0) await storage.WriteAsync(attempts, (db, k) => db.HashSetAsync(k, sessionId, number, When.NotExists));
        if (!reset) await storage.WriteAsync(spent, (db, k) => db.SetAddAsync(k, sessionId));
    }

    /// <summary>
    /// Creates a session unless it exists; true when created. The indexes (learner, course, retention, deadlines,
    /// heartbeat gaps) are written first: a crash before the session itself leaves only ids that the readers skip.
    /// The retention entry starts at the deadline: the sweeper works the session's real end of retention out then.
    /// </summary>
    public async Task<bool> CreateAsync(NewSession s)
    {
        var exam = s.Exam;
        await storage.WriteAsync(keys.CourseSessions(exam.CourseId), (db, k) => db.SortedSetAddAsync(k, s.SessionId, s.StartedAt.ToUnixTimeMilliseconds()));
        await storage.WriteAsync(keys.RetentionDue, (db, k) => db.SortedSetAddAsync(k, s.SessionId, s.Deadline.ToUnixTimeMilliseconds(), SortedSetWhen.NotExists));
        await storage.WriteAsync(keys.LearnerSessions(s.LearnerId), (db, k) => db.SortedSetAddAsync(k, LearnerMember(s.StartedAt, s.SessionId), 0));
        await storage.WriteAsync(keys.Deadlines, (db, k) => db.SortedSetAddAsync(k, s.SessionId, (s.Deadline + s.Grace).ToUnixTimeMilliseconds()));
        var gap = exam.ConnectionLostAfter.ToTimeSpan();
        await storage.WriteAsync(keys.HeartbeatDue, (db, k) => db.SortedSetAddAsync(k, s.SessionId, (s.StartedAt + gap).ToUnixTimeMilliseconds()));
        var session = keys.Session(s.SessionId).Hash;
        var created = await storage.WriteAsync(session, CreateScript, new
        {
            session,
            examId = exam.ExamId,
            courseId = exam.CourseId,
            learnerId = s.LearnerId,
            learnerName = s.LearnerName,
            learnerEmail = s.LearnerEmail,
            startedAt = s.StartedAt.ToUnixTimeMilliseconds(),
            deadline = s.Deadline.ToUnixTimeMilliseconds(),
            gapMs = (long)gap.TotalMilliseconds,
            examMs = (long)exam.TimeLimit.ToTimeSpan().TotalMilliseconds,
            exam = exam.ToByteArray(),
            idPhoto = s.IdDocumentPhoto is null ? 0 : 1,
            idPhotoRef = PinnedEvidence.Format(s.IdDocumentPhoto),
            facePhoto = s.FacePhoto is null ? 0 : 1,
            facePhotoRef = PinnedEvidence.Format(s.FacePhoto),
            startRequest = s.StartRequest,
            timeMultiplier = Num(s.TimeMultiplier),
            graceMs = (long)s.Grace.TotalMilliseconds,
            allowHeadphones = s.AllowHeadphones ? 1 : 0,
            attempt = s.Attempt,
        });
        return (long)created == 1;
    }

    /// <summary>Gives a running session its extra time (time limit + extra from the start); returns the new deadline, or null when not running.</summary>
    public async Task<DateTimeOffset?> ExtendDeadlineAsync(string sessionId, TimeSpan extra)
    {
        var session = keys.Session(sessionId).Hash;
        var r = (RedisResult[])(await storage.WriteAsync(session, ExtendDeadlineScript, new { session, extraMs = (long)extra.TotalMilliseconds }))!;
        return await RescheduleAsync(sessionId, r);
    }

    /// <summary>
    /// Applies a learner's allowance to their running session (time multiplier, grace, headphones; the deadline moves
    /// to start + time limit x multiplier + <paramref name="extra"/>); returns the new deadline, or null when not running.
    /// </summary>
    public async Task<DateTimeOffset?> ApplyAllowanceAsync(string sessionId, double timeMultiplier, TimeSpan grace, bool allowHeadphones, TimeSpan extra)
    {
        var session = keys.Session(sessionId).Hash;
        var r = (RedisResult[])(await storage.WriteAsync(session, ApplyAllowanceScript, new
        {
            session,
            timeMultiplier = Num(timeMultiplier),
            graceMs = (long)grace.TotalMilliseconds,
            allowHeadphones = allowHeadphones ? 1 : 0,
            extraMs = (long)extra.TotalMilliseconds,
        }))!;
        return await RescheduleAsync(sessionId, r);
    }

    /// <summary>A moved deadline ({deadline, grace} from a script, {0} when not running): the deadline index at deadline + grace.</summary>
    private async Task<DateTimeOffset?> RescheduleAsync(string sessionId, RedisResult[] r)
    {
        var deadline = Number(r[0]);
        if (deadline == 0) return null;
        var ends = deadline + Number(r[1]);
        await storage.WriteAsync(keys.Deadlines, (db, k) => db.SortedSetAddAsync(k, sessionId, ends));
        return DateTimeOffset.FromUnixTimeMilliseconds(deadline);
    }

    // ---- the exam stream ----

    /// <summary>Saves one answer (the save script); returns only after Redis replied, i.e. the write is durable.</summary>
    public async Task<SaveResult> SaveAsync(string sessionId, string questionId, long sequence, string digest, Answer answer, DateTimeOffset now, long maxAhead)
    {
        var k = keys.Session(sessionId);
        var r = (RedisResult[])(await storage.WriteAsync(k.Hash, SaveScript, new
        {
            session = k.Hash,
            answers = k.Answers,
            answerMeta = k.AnswerMeta,
            question = questionId,
            sequence,
            digest,
            answer = answer.ToByteArray(),
            now = now.ToUnixTimeMilliseconds(),
            maxAhead,
        }))!;
        return Text(r[0]) switch
        {
            "reused" => new SaveResult(SaveStatus.Reused, LastAcked: Number(r[1])),
            "ahead" => new SaveResult(SaveStatus.TooFarAhead, LastAcked: Number(r[1])),
            "stored" => new SaveResult(SaveStatus.Stored, Text(r[1]), Number(r[2])),
            "duplicate" => new SaveResult(SaveStatus.Duplicate, Text(r[1]), Number(r[2])),
            "stale" => new SaveResult(SaveStatus.Stale, Text(r[1]), Number(r[2])),
            "conflict" => new SaveResult(SaveStatus.Conflict, Text(r[1])),
            "closed" => new SaveResult(SaveStatus.Closed, ClosedState: (SessionState)Number(r[1])),
            "deadline" => new SaveResult(SaveStatus.DeadlinePassed),
            "missing" => new SaveResult(SaveStatus.Missing),
            var other => throw Unexpected(SaveScript, other),
        };
    }

    /// <summary>
    /// Records a heartbeat with the rule signals it breaches. With <paramref name="updateDueIndex"/>, also moves the
    /// session's entry in the heartbeat-due index (watched by every replica's sweeper) to now + <paramref name="gap"/>.
    /// </summary>
    /// <remarks>
    /// <paramref name="unwrittenFor"/>: how long after this heartbeat the stream may see heartbeats it does not write
    /// (the gap check waits that much longer; <see cref="FlushHeartbeatAsync"/> clears it when the stream ends).
    /// </remarks>
    public async Task<HeartbeatResult> HeartbeatAsync(string sessionId, DateTimeOffset now, bool headphones, bool cameraOff, bool screenShareOff, bool focusLost, bool micOff, TimeSpan gap, bool updateDueIndex,
        TimeSpan unwrittenFor = default)
    {
        var k = keys.Session(sessionId);
        var script = storage.WriteAsync(k.Hash, HeartbeatScript, new
        {
            session = k.Hash,
            incidents = k.Incidents,
            openIncidents = k.OpenIncidents,
            now = now.ToUnixTimeMilliseconds(),
            headphones = Flag(headphones),
            cameraOff = Flag(cameraOff),
            screenShareOff = Flag(screenShareOff),
            focusLost = Flag(focusLost),
            microphoneOff = Flag(micOff),
            slackMs = (long)unwrittenFor.TotalMilliseconds,
        });
        // The connection counts as lost at now + gap. Sent with the script (one round trip, one fsync) rather than
        // after it; GT keeps a late heartbeat from moving it back. For a session that turns out closed, the sweeper
        // finds it gone and drops it.
        var due = updateDueIndex
            ? storage.WriteAsync(keys.HeartbeatDue, (db, key) => db.SortedSetAddAsync(key, sessionId, (now + gap).ToUnixTimeMilliseconds(), SortedSetWhen.GreaterThan))
            : null;
        var r = (RedisResult[])(await script)!;
        if (due is not null) await due;
        return Text(r[0]) switch
        {
            "ok" => new HeartbeatResult(true, DateTimeOffset.FromUnixTimeMilliseconds(Number(r[1])), r.Skip(2).Select(x => (IncidentKind)Number(x)).ToList()),
            "closed" or "missing" => new HeartbeatResult(false, default, []),
            var other => throw Unexpected(HeartbeatScript, other),
        };

        static string Flag(bool b) => b ? "1" : "0";
    }

    /// <summary>
    /// What a heartbeat kept in memory answers with: whether the session still runs, and its deadline (extra time moves
    /// it). A read: nothing is written.
    /// </summary>
    public async Task<HeartbeatResult> ReadForHeartbeatAsync(string sessionId)
    {
        var f = await Db.HashGetAsync(keys.Session(sessionId).Hash, [(RedisValue)"state", "deadline"]);
        var running = f[0].ToString() == ((int)SessionState.InProgress).ToString(CultureInfo.InvariantCulture);
        return running && long.TryParse(f[1].ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var deadline)
            ? new HeartbeatResult(true, DateTimeOffset.FromUnixTimeMilliseconds(deadline), [])
            : new HeartbeatResult(false, default, []);
    }

    /// <summary>
    /// The end of a stream that kept heartbeats in memory: records its last heartbeat <paramref name="lastSeen"/> with no
    /// slack, unless the session ended or a later heartbeat is recorded; true when written.
    /// </summary>
    public async Task<bool> FlushHeartbeatAsync(string sessionId, DateTimeOffset lastSeen)
    {
        var session = keys.Session(sessionId).Hash;
        return (long)await storage.WriteAsync(session, HeartbeatFlushScript, new { session, lastSeen = lastSeen.ToUnixTimeMilliseconds() }) == 1;
    }

    // ---- the end of a session ----

    /// <summary>
    /// Ends a session if nothing changed since <paramref name="ending"/> was computed, with its event in the outbox (the
    /// pending index announced before and after, as the outbox wants), and drops it from the deadline and heartbeat indexes.
    /// </summary>
    public async Task<FinishReply> FinishAsync(string sessionId, SessionEnding ending)
    {
        var k = keys.Session(sessionId);
        await AnnounceOutboxAsync(sessionId, ending.Now);
        var r = (RedisResult[])(await storage.WriteAsync(k.Hash, FinishScript, new
        {
            session = k.Hash,
            incidents = k.Incidents,
            openIncidents = k.OpenIncidents,
            outbox = k.Outbox,
            mode = ending.Mode switch { FinishMode.FinalCheck => "final", FinishMode.Expiry => "expire", _ => "exception" },
            expectedRev = ending.ExpectedRev,
            now = ending.Now.ToUnixTimeMilliseconds(),
            newState = (int)ending.NewState,
            lastSaveSequence = ending.LastSaveSequence,
            receipt = ending.Receipt?.ToByteArray() ?? [],
            score = Num(ending.Score),
            maxScore = Num(ending.MaxScore),
            @event = ending.Event is null ? string.Empty : OutboxEntry.Serialize(ending.Event),
            requestId = ending.RequestId,
            exception = ending.Exception?.ToByteArray() ?? [],
            audit = k.Audit,
            auditId = ending.Audit?.EntryId ?? string.Empty,
            auditEntry = ending.Audit?.Entry ?? [],
        }))!;
        var reply = Text(r[0]) switch
        {
            "ok" => new FinishReply(FinishStatus.Finished),
            "retry" => new FinishReply(FinishStatus.AnswersChanged),
            "done" => new FinishReply(FinishStatus.AlreadyGranted),
            "state" => new FinishReply(FinishStatus.WrongState, State: (SessionState)Number(r[1])),
            "mismatch" => new FinishReply(FinishStatus.SequenceMismatch, LastAcked: Number(r[1])),
            "deadline" => new FinishReply(FinishStatus.DeadlinePassed),
            "early" => new FinishReply(FinishStatus.TooEarly),
            "missing" => new FinishReply(FinishStatus.Missing),
            var other => throw Unexpected(FinishScript, other),
        };
        if (reply.Status == FinishStatus.Finished)
        {
            outboxSignal.Notify(sessionId);
            await AnnounceOutboxAsync(sessionId, ending.Now);
            // Into the review lists before leaving the deadline index: after a crash in between, the sweeper finds the
            // finished session there and indexes it (SessionFinisher) before it removes the entry.
            await IndexForReviewAsync(sessionId);
            await storage.WriteAsync(keys.Deadlines, (db, key) => db.SortedSetRemoveAsync(key, sessionId));
            await storage.WriteAsync(keys.HeartbeatDue, (db, key) => db.SortedSetRemoveAsync(key, sessionId));
        }
        return reply;
    }

    /// <summary>
    /// Records a board decision if the decision in force is still <paramref name="expectedVersion"/>, with its event in the
    /// outbox. An open second look (read as the last of <paramref name="secondLookCount"/>) becomes <paramref name="closedSecondLook"/>
    /// in the same step, unless the decision's member asked for it.
    /// </summary>
    public async Task<DecisionReply> DecideAsync(string sessionId, string requestKey, long expectedVersion, BoardDecision decision, object evt, DateTimeOffset now,
        long secondLookCount = 0, SecondLook? closedSecondLook = null, AuditWrite? audit = null)
    {
        var k = keys.Session(sessionId);
        await AnnounceOutboxAsync(sessionId, now);
        var r = (RedisResult[])(await storage.WriteAsync(k.Hash, DecideScript, new
        {
            session = k.Hash,
            decisions = k.Decisions,
            outbox = k.Outbox,
            requests = k.Requests,
            secondLooks = k.SecondLooks,
            requestKey,
            expectedVersion,
            decidedBy = decision.DecidedBy,
            secondLookCount,
            closedSecondLook = closedSecondLook?.ToByteArray() ?? [],
            decision = decision.ToByteArray(),
            @event = OutboxEntry.Serialize(evt),
            version = decision.Version,
            audit = k.Audit,
            auditId = audit?.EntryId ?? string.Empty,
            auditEntry = audit?.Entry ?? [],
        }))!;
        var reply = Text(r[0]) switch
        {
            "ok" => new DecisionReply(DecisionStatus.Recorded, decision.Version),
            "dup" => new DecisionReply(DecisionStatus.Duplicate, Number(r[1])),
            "version" => new DecisionReply(DecisionStatus.VersionMismatch, Number(r[1])),
            "state" => new DecisionReply(DecisionStatus.InProgress),
            "same" => new DecisionReply(DecisionStatus.SameMember, Member: Text(r[1])),
            "retry" => new DecisionReply(DecisionStatus.SecondLookChanged),
            "missing" => new DecisionReply(DecisionStatus.Missing),
            var other => throw Unexpected(DecideScript, other),
        };
        if (reply.Status == DecisionStatus.Recorded)
        {
            // This replica's relay takes it at once (the poll of the pending index stays the guarantee).
            outboxSignal.Notify(sessionId);
            await AnnounceOutboxAsync(sessionId, now);
        }
        return reply;
    }

    /// <summary>
    /// Puts a session in the outbox-pending index (before and after writing its outbox: the index is a global key in
    /// another slot, so it cannot be in the same script; the relay drops an announced session only when its outbox is
    /// empty and the announcement older than the grace).
    /// </summary>
    private Task AnnounceOutboxAsync(string sessionId, DateTimeOffset now) =>
        storage.WriteAsync(keys.OutboxPending, (db, k) => db.SortedSetAddAsync(k, sessionId, now.ToUnixTimeMilliseconds()));

    // ---- the learner's sessions ----

    /// <summary>A session's member in its learner's index: its start (Unix ms, 13 digits) and its id; never changes.</summary>
    internal static string LearnerMember(DateTimeOffset startedAt, string sessionId) => ReviewMember(startedAt, sessionId);

    /// <summary>Up to <paramref name="take"/> members of a learner's index before <paramref name="before"/> (from the latest when null), latest first.</summary>
    public async Task<IReadOnlyList<string>> ReadLearnerSessionsAsync(string learnerId, string? before, int take) =>
        (await Db.SortedSetRangeByValueAsync(keys.LearnerSessions(learnerId), default, before is null ? default : before,
            before is null ? Exclude.None : Exclude.Stop, Order.Descending, skip: 0, take: take)).Select(v => v.ToString()).ToList();

    // ---- the review index ----

    /// <summary>A finished session's member in its course's review sets: its end (Unix ms, 13 digits) and its id; never changes.</summary>
    internal static string ReviewMember(DateTimeOffset finishedAt, string sessionId) =>
        finishedAt.ToUnixTimeMilliseconds().ToString("D13", CultureInfo.InvariantCulture) + "|" + sessionId;

    /// <summary>The session id of a review member, or null when the text is not one.</summary>
    internal static string? ReviewMemberSession(string member) =>
        member.Length > 14 && member[13] == '|' && member.AsSpan(0, 13).IndexOfAnyExceptInRange('0', '9') < 0 ? member[14..] : null;

    /// <summary>
    /// Puts a finished session in every review set of its course whose rule holds for its record as read now, and out
    /// of the non-monotonic ones that no longer hold (one script, one slot). Idempotent; a stale caller can only re-add
    /// to a non-monotonic set, which readers check. Does nothing for a session that is not finished.
    /// </summary>
    public async Task IndexForReviewAsync(string sessionId)
    {
        // A removal from a set whose rule can hold again (a second look) is checked after the write: a change that made
        // the rule true again meanwhile, and indexed before this removal, is indexed once more (remove, re-read, re-add).
        for (var pass = 0; pass < 3; pass++)
        {
            var session = await GetAsync(sessionId);
            if (session is null || !session.IsFinished || session.FinishedAt is not { } finishedAt) return;
            var facts = Facts(session, await CountIncidentsAsync(sessionId));
            var add = ReviewFilters.All.Where(f => ReviewFilters.Holds(f, facts)).ToList();
            var remove = ReviewFilters.All.Where(f => !ReviewFilters.Monotonic(f) && !ReviewFilters.Holds(f, facts)).ToList();
            RedisKey[] sets = [keys.ReviewMembers(session.CourseId), .. add.Concat(remove).Select(f => keys.ReviewSet(session.CourseId, f))];
            await storage.WriteAsync(sets[0], ReviewIndexScript, sets, [ReviewMember(finishedAt, sessionId), add.Count, sessionId]);
            if (!remove.Any(ReviewFilters.CanHoldAgain)) return;
            var again = await GetAsync(sessionId);
            if (again is null || !remove.Any(f => ReviewFilters.Holds(f, Facts(again, facts.Incidents)))) return;
        }
    }

    /// <summary>What the review index knows of a session, from its record and its incident count.</summary>
    internal static ReviewFacts Facts(SessionData s, long incidents) =>
        new(s.IsFinished, s.DecisionVersion, incidents, s.Exception is not null, s.ProblemReports, s.SecondLookBy is not null, ExamValidator.IsPractice(s.Exam));

    /// <summary>
    /// Adds a finished session to review sets before the change that makes their rule hold (a decision, an exception, a
    /// problem report): a crash after that change cannot leave it out; readers skip the entry while the rule does not hold yet.
    /// </summary>
    public Task PreIndexForReviewAsync(SessionData session, params ReviewFilter[] filters)
    {
        if (session.FinishedAt is not { } finishedAt) return Task.CompletedTask;
        RedisKey[] sets = [keys.ReviewMembers(session.CourseId), .. filters.Select(f => keys.ReviewSet(session.CourseId, f))];
        return storage.WriteAsync(sets[0], ReviewIndexScript, sets, [ReviewMember(finishedAt, session.SessionId), filters.Length, session.SessionId]);
    }

    /// <summary>Takes a purged session out of every review set of its course (readers would drop it one by one anyway).</summary>
    public Task UnindexForReviewAsync(string courseId, string sessionId)
    {
        RedisKey[] sets = [keys.ReviewMembers(courseId), .. ReviewFilters.All.Select(f => keys.ReviewSet(courseId, f))];
        return storage.WriteAsync(sets[0], ReviewUnindexScript, sets, [sessionId]);
    }

    /// <summary>Up to <paramref name="take"/> members of a course's review set after <paramref name="after"/> (from the start when null), in order.</summary>
    public async Task<IReadOnlyList<string>> ReadReviewSetAsync(string courseId, ReviewFilter filter, string? after, int take) =>
        (await Db.SortedSetRangeByValueAsync(keys.ReviewSet(courseId, filter), after is null ? default : after, default,
            after is null ? Exclude.None : Exclude.Start, Order.Ascending, skip: 0, take: take)).Select(v => v.ToString()).ToList();

    /// <summary>Takes a member out of a review set (an entry a reader found wrong for good: the session erased, or decided).</summary>
    public Task DropFromReviewSetAsync(string courseId, ReviewFilter filter, string member) =>
        storage.WriteAsync(keys.ReviewSet(courseId, filter), (db, k) => db.SortedSetRemoveAsync(k, member));

    // ---- the sweeper's indexes ----

    /// <summary>The sessions whose deadline is at or before <paramref name="now"/>, earliest first, at most <paramref name="take"/>.</summary>
    public Task<IReadOnlyList<DueSession>> DueDeadlinesAsync(DateTimeOffset now, int take) => DueAsync(keys.Deadlines, now, take);

    /// <summary>Removes a session from the deadline index unless its deadline moved since it was read.</summary>
    public Task RemoveDeadlineAsync(DueSession entry) => RemoveDueAsync(keys.Deadlines, entry);

    /// <summary>The sessions whose heartbeat check is due at or before <paramref name="now"/>, earliest first, at most <paramref name="take"/>.</summary>
    public Task<IReadOnlyList<DueSession>> DueHeartbeatChecksAsync(DateTimeOffset now, int take) => DueAsync(keys.HeartbeatDue, now, take);

    /// <summary>Removes a session from the heartbeat-due index unless a heartbeat moved it since it was read.</summary>
    public Task RemoveHeartbeatCheckAsync(DueSession entry) => RemoveDueAsync(keys.HeartbeatDue, entry);

    /// <summary>Moves a session's heartbeat check later (never earlier).</summary>
    public Task PostponeHeartbeatCheckAsync(string sessionId, DateTimeOffset due) =>
        storage.WriteAsync(keys.HeartbeatDue, (db, k) => db.SortedSetAddAsync(k, sessionId, due.ToUnixTimeMilliseconds(), SortedSetWhen.GreaterThan));

    /// <summary>Opens a connection-lost incident, starting at the last heartbeat, when the session's heartbeats stopped for longer than its exam allows.</summary>
    public async Task<GapCheck> CheckHeartbeatGapAsync(string sessionId, DateTimeOffset now, string details)
    {
        var k = keys.Session(sessionId);
        var r = (RedisResult[])(await storage.WriteAsync(k.Hash, HeartbeatGapScript, new
        {
            session = k.Hash,
            incidents = k.Incidents,
            openIncidents = k.OpenIncidents,
            now = now.ToUnixTimeMilliseconds(),
            details,
        }))!;
        return Text(r[0]) switch
        {
            "gone" => new GapCheck(GapStatus.Gone),
            "later" => new GapCheck(GapStatus.Later, DateTimeOffset.FromUnixTimeMilliseconds(Number(r[1]))),
            "open" => new GapCheck(GapStatus.AlreadyOpen),
            "opened" => new GapCheck(GapStatus.Opened),
            var other => throw Unexpected(HeartbeatGapScript, other),
        };
    }

    private async Task<IReadOnlyList<DueSession>> DueAsync(RedisKey index, DateTimeOffset now, int take) =>
        (await Db.SortedSetRangeByScoreWithScoresAsync(index, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: take))
            .Select(e => new DueSession(e.Element.ToString(), DateTimeOffset.FromUnixTimeMilliseconds((long)e.Score)))
            .ToList();

    private Task RemoveDueAsync(RedisKey index, DueSession entry) =>
        storage.WriteAsync(index, RemoveDueEntryScript, new { index, sessionId = entry.SessionId, score = entry.Due.ToUnixTimeMilliseconds() });

    // ---- replies ----

    private static string Text(RedisResult r) => r.ToString();

    private static long Number(RedisResult r) => long.Parse(r.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture);

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static InvalidOperationException Unexpected(RedisScript script, string reply) =>
        new($"The {script.Name} script replied '{reply}', which this version does not know.");
}
