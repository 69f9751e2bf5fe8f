using Google.Protobuf;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Answers;
using Vigil.Session.Outbox;

namespace Vigil.Session.Storage;

/// <summary>The outcome of a save script.</summary>
internal sealed record SaveResult(string Outcome, string Digest, long LastAcked, SessionState? ClosedState);

/// <summary>Reads and writes sessions in Redis.</summary>
internal sealed class SessionStore(IConnectionMultiplexer redis, RedisKeys keys, OutboxSignal outboxSignal)
{
    private IDatabase Db => redis.GetDatabase();

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

    /// <summary>The incidents of a session.</summary>
    public async Task<List<Incident>> GetIncidentsAsync(string sessionId) =>
        StoredFormats.Incidents(await Db.HashGetAllAsync(keys.Session(sessionId).Incidents));

    /// <summary>How many incidents a session has.</summary>
    public async Task<long> CountIncidentsAsync(string sessionId) => await Db.HashLengthAsync(keys.Session(sessionId).Incidents);

    /// <summary>A page of a course's session ids, oldest start first.</summary>
    public async Task<List<string>> ListCourseSessionsAsync(string courseId) =>
        (await Db.SortedSetRangeByRankAsync(keys.CourseSessions(courseId))).Select(v => v.ToString()).ToList();

    /// <summary>The board's decisions on a session, oldest first.</summary>
    public async Task<List<BoardDecision>> GetDecisionsAsync(string sessionId) =>
        (await Db.ListRangeAsync(keys.Session(sessionId).Decisions)).Select(v => BoardDecision.Parser.ParseFrom((byte[])v!)).ToList();

    /// <summary>
    /// Creates a session. The indexes (course, deadlines, heartbeat gaps) are written first: a crash before the
    /// session itself leaves only ids that the readers skip.
    /// </summary>
    public async Task<bool> CreateAsync(string sessionId, string courseId, DateTimeOffset startedAt, DateTimeOffset deadline, TimeSpan gap, HashEntry[] fields)
    {
        await Db.SortedSetAddAsync(keys.CourseSessions(courseId), sessionId, startedAt.ToUnixTimeMilliseconds());
        await Db.SortedSetAddAsync(keys.Deadlines, sessionId, deadline.ToUnixTimeMilliseconds());
        await Db.SortedSetAddAsync(keys.HeartbeatDue, sessionId, (startedAt + gap).ToUnixTimeMilliseconds());
        var args = fields.SelectMany(f => new[] { (RedisValue)f.Name.ToString(), f.Value }).ToArray();
        var created = (long)await Db.ScriptEvaluateAsync(Scripts.CreateSession, [keys.Session(sessionId).Hash], args);
        return created == 1;
    }

    /// <summary>Claims the one session of a learner for an exam; returns the session id that holds the claim.</summary>
    public async Task<string> ClaimAsync(string examId, string learnerId, string sessionId)
    {
        var key = keys.Claim(examId, learnerId);
        if (await Db.StringSetAsync(key, sessionId, when: When.NotExists)) return sessionId;
        return (await Db.StringGetAsync(key)).ToString();
    }

    /// <summary>The session a learner holds for an exam, if any.</summary>
    public async Task<string?> GetClaimAsync(string examId, string learnerId)
    {
        var v = await Db.StringGetAsync(keys.Claim(examId, learnerId));
        return v.IsNullOrEmpty ? null : v.ToString();
    }

    /// <summary>Gives a running session its extra time (time limit + extra from the start); returns the new deadline, or null when not running.</summary>
    public async Task<DateTimeOffset?> ExtendDeadlineAsync(string sessionId, TimeSpan extra)
    {
        var r = (long)await Db.ScriptEvaluateAsync(Scripts.ExtendDeadline, [keys.Session(sessionId).Hash], [(long)extra.TotalMilliseconds]);
        if (r == 0) return null;
        await Db.SortedSetAddAsync(keys.Deadlines, sessionId, r);
        return DateTimeOffset.FromUnixTimeMilliseconds(r);
    }

    /// <summary>Releases a claim this start made, when the start is refused.</summary>
    public Task ReleaseClaimAsync(string examId, string learnerId, string sessionId) =>
        Db.ScriptEvaluateAsync(Scripts.ReleaseLease, [keys.Claim(examId, learnerId)], [sessionId]);

    /// <summary>How many answers a session has saved.</summary>
    public Task<long> CountAnswersAsync(string sessionId) => Db.HashLengthAsync(keys.Session(sessionId).Answers);

    /// <summary>Saves one answer (the save script); returns only after Redis replied, i.e. the write is durable.</summary>
    public async Task<SaveResult> SaveAsync(string sessionId, string questionId, long sequence, string digest, Answer answer, DateTimeOffset now)
    {
        var k = keys.Session(sessionId);
        var r = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.Save,
            [k.Hash, k.Answers, k.AnswerMeta],
            [questionId, sequence, digest, answer.ToByteArray(), now.ToUnixTimeMilliseconds()]))!;
        var outcome = r[0].ToString();
        return outcome switch
        {
            "stored" or "duplicate" or "stale" => new SaveResult(outcome, r[1].ToString(), long.Parse(r[2].ToString(), System.Globalization.CultureInfo.InvariantCulture), null),
            "closed" => new SaveResult(outcome, string.Empty, 0, (SessionState)int.Parse(r[1].ToString(), System.Globalization.CultureInfo.InvariantCulture)),
            "conflict" => new SaveResult(outcome, r[1].ToString(), 0, null),
            _ => new SaveResult(outcome, string.Empty, 0, null),
        };
    }

    /// <summary>
    /// Records a heartbeat; returns the script's reply ({ok, opened kinds…} or {closed, state}). With
    /// <paramref name="updateDueIndex"/>, also moves the session's entry in the heartbeat-due index (watched by every
    /// replica's sweeper) to now + <paramref name="gap"/>.
    /// </summary>
    public async Task<string[]> HeartbeatAsync(string sessionId, DateTimeOffset now, bool headphones, bool cameraOff, bool screenShareOff, bool focusLost, bool micOff, TimeSpan gap, bool updateDueIndex)
    {
        var k = keys.Session(sessionId);
        static RedisValue Flag(bool b) => b ? "1" : "0";
        var script = Db.ScriptEvaluateAsync(Scripts.Heartbeat,
            [k.Hash, k.Incidents, k.OpenIncidents],
            [now.ToUnixTimeMilliseconds(), Flag(headphones), Flag(cameraOff), Flag(screenShareOff), Flag(focusLost), Flag(micOff)]);
        // The connection counts as lost at now + gap. Sent with the script (one round trip, one fsync) rather than
        // after it; GT keeps a late heartbeat from moving it back. For a session that turns out closed, the sweeper
        // finds it gone and drops it.
        var due = updateDueIndex
            ? Db.SortedSetAddAsync(keys.HeartbeatDue, sessionId, (now + gap).ToUnixTimeMilliseconds(), SortedSetWhen.GreaterThan)
            : null;
        var r = (RedisResult[])(await script)!;
        if (due is not null) await due;
        return r.Select(x => x.ToString()).ToArray();
    }

    /// <summary>Runs the finish script; returns its reply.</summary>
    public async Task<string[]> FinishAsync(string sessionId, string mode, string expectedRev, DateTimeOffset now, SessionState newState,
        long lastSaveSequence, Receipt? receipt, double score, double maxScore, string? eventJson, string requestId,
        SubmissionException? exception, string submissionKind)
    {
        var k = keys.Session(sessionId);
        if (eventJson is not null) await AnnounceOutboxAsync(sessionId, now);
        var r = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.Finish,
            [k.Hash, k.Incidents, k.OpenIncidents, k.Outbox],
            [
                mode, expectedRev, now.ToUnixTimeMilliseconds(), (int)newState, lastSaveSequence,
                receipt?.ToByteArray() ?? RedisValue.EmptyString,
                score.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                maxScore.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                eventJson ?? string.Empty, requestId, exception?.ToByteArray() ?? RedisValue.EmptyString, submissionKind,
            ]))!;
        var reply = r.Select(x => x.ToString()).ToArray();
        if (reply[0] == "ok")
        {
            if (eventJson is not null)
            {
                outboxSignal.Notify(sessionId);
                await AnnounceOutboxAsync(sessionId, now);
            }
            await Db.SortedSetRemoveAsync(keys.Deadlines, sessionId);
            await Db.SortedSetRemoveAsync(keys.HeartbeatDue, sessionId);
        }
        return reply;
    }

    /// <summary>Runs the decision script; returns its reply.</summary>
    public async Task<string[]> DecideAsync(string sessionId, string requestKey, long expectedVersion, BoardDecision decision, string eventJson, DateTimeOffset now)
    {
        var k = keys.Session(sessionId);
        await AnnounceOutboxAsync(sessionId, now);
        var r = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.Decide,
            [k.Hash, k.Decisions, k.Outbox, k.Requests],
            [requestKey, expectedVersion, decision.ToByteArray(), eventJson, decision.Version]))!;
        var reply = r.Select(x => x.ToString()).ToArray();
        if (reply[0] == "ok")
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
    public Task AnnounceOutboxAsync(string sessionId, DateTimeOffset now) =>
        Db.SortedSetAddAsync(keys.OutboxPending, sessionId, now.ToUnixTimeMilliseconds());
}
