using StackExchange.Redis;
using Vigil.Contracts.Events;

namespace Vigil.Certificate.Store;

/// <summary>What applying an event's fact did.</summary>
internal enum FactResult
{
    /// <summary>The fact was stored.</summary>
    Applied,
    /// <summary>This event id was already processed: nothing changed.</summary>
    Duplicate,
    /// <summary>A newer or overriding fact was already stored (older decision version, expiry after submission…): recorded, nothing changed.</summary>
    Superseded,
    /// <summary>The session's data was erased: the event is ignored.</summary>
    Erased,
}

/// <summary>
/// The certificate service's Redis layout (see docs/certificate.md). Every fact is stored by ONE Lua script
/// on keys sharing the <c>{sessionId}</c> hash tag: the event-id check, the version check and the write are
/// one atomic step, which also returns the session's hash as it left it (the projection starts from it: no
/// second read). The projection is written separately with a compare-and-set on <c>p_rev</c>.
/// </summary>
internal sealed class CertificateStore(IConnectionMultiplexer redis)
{
    private IDatabase Db => redis.GetDatabase();

    public static RedisKey SessionKey(string sessionId) => $"certificate:{{{sessionId}}}:session";
    public static RedisKey EventsKey(string sessionId) => $"certificate:{{{sessionId}}}:events";
    public static RedisKey LearnerKey(string learnerId) => $"certificate:learner:{{{learnerId}}}";
    public static RedisKey CodeKey(string code) => $"certificate:code:{{{code}}}";
    public static RedisKey ErasureKey(string requestId) => $"certificate:erasure:{{{requestId}}}";
    public static RedisChannel DashboardChannel(string learnerId) => RedisChannel.Literal($"certificate:dashboard:{learnerId}");

    // Shared prologue: a tombstone ignores everything; SADD of the event id is the dedupe, in the same step.
    // Each fact script is the body of a function; the epilogue returns {outcome, the hash after it} ({'erased'} alone).
    private const string Prologue = """
        local function apply()
        if redis.call('HEXISTS', KEYS[1], 'erased') == 1 then return 'erased' end
        if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 'duplicate' end
        redis.call('HSETNX', KEYS[1], 'learner_id', ARGV[2])
        redis.call('HSETNX', KEYS[1], 'exam_id', ARGV[3])
        redis.call('HSETNX', KEYS[1], 'course_id', ARGV[4])
        """;

    private const string Epilogue = """

        end
        local outcome = apply()
        if outcome == 'erased' then return {outcome} end
        return {outcome, redis.call('HGETALL', KEYS[1])}
        """;

    // A submission (any of the three kinds) overrides an expiry; a second submission changes nothing.
    private const string SubmittedScript = Prologue + """
        if redis.call('HGET', KEYS[1], 'sub_state') == 'validated' then return 'superseded' end
        redis.call('HSET', KEYS[1], 'sub_state', 'validated', 'exam_title', ARGV[5], 'learner_name', ARGV[6], 'sub_kind', ARGV[7],
          'submitted_at', ARGV[8], 'score', ARGV[9], 'max_score', ARGV[10], 'pass_mark', ARGV[11], 'id_photo', ARGV[12])
        redis.call('HINCRBY', KEYS[1], 'facts_rev', 1)
        return 'applied'
        """ + Epilogue;

    // An expiry never overrides a submission.
    private const string ExpiredScript = Prologue + """
        if redis.call('HEXISTS', KEYS[1], 'sub_state') == 1 then return 'superseded' end
        redis.call('HSET', KEYS[1], 'sub_state', 'expired', 'exam_title', ARGV[5], 'submitted_at', ARGV[6])
        redis.call('HINCRBY', KEYS[1], 'facts_rev', 1)
        return 'applied'
        """ + Epilogue;

    // Only a higher version replaces the decision in force; a decision before its submission is simply kept.
    private const string DecisionScript = Prologue + """
        local current = tonumber(redis.call('HGET', KEYS[1], 'dec_version') or '0')
        if tonumber(ARGV[5]) <= current then return 'superseded' end
        redis.call('HSET', KEYS[1], 'dec_version', ARGV[5], 'dec_outcome', ARGV[6], 'dec_reason_code', ARGV[7],
          'dec_reason_text', ARGV[8], 'decided_at', ARGV[9])
        redis.call('HINCRBY', KEYS[1], 'facts_rev', 1)
        return 'applied'
        """ + Epilogue;

    // Compare-and-set of the projection: written only if nobody wrote it since it was read.
    private const string ProjectionScript = """
        if redis.call('HEXISTS', KEYS[1], 'erased') == 1 then return -1 end
        local rev = tonumber(redis.call('HGET', KEYS[1], 'p_rev') or '0')
        if rev ~= tonumber(ARGV[1]) then return 0 end
        for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
        redis.call('HSET', KEYS[1], 'p_rev', rev + 1)
        return rev + 1
        """;

    // Erasure of one session: everything personal goes; a tombstone stays so that redelivered events are ignored.
    private const string EraseScript = """
        if redis.call('HEXISTS', KEYS[1], 'erased') == 1 then return {0, ''} end
        local learner = redis.call('HGET', KEYS[1], 'learner_id')
        if learner ~= ARGV[1] then return {0, ''} end
        local code = redis.call('HGET', KEYS[1], 'c_code') or ''
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 'erased', '1')
        return {1, code}
        """;

    public async Task<(FactResult Result, SessionRecord? Record)> ApplySubmittedAsync(SessionSubmitted e) =>
        Parse(e.SessionId, await Db.ScriptEvaluateAsync(SubmittedScript, [SessionKey(e.SessionId), EventsKey(e.SessionId)],
        [
            e.EventId.ToString("N"), e.LearnerId, e.ExamId, e.CourseId, e.ExamTitle, e.LearnerName, e.Kind.ToString(),
            SessionRecord.Ms(e.SubmittedAt), SessionRecord.Num(e.Score), SessionRecord.Num(e.MaxScore), SessionRecord.Num(e.PassMark),
            e.IdDocumentPhotoAccepted ? "1" : "0",
        ]));

    public async Task<(FactResult Result, SessionRecord? Record)> ApplyExpiredAsync(SessionExpired e) =>
        Parse(e.SessionId, await Db.ScriptEvaluateAsync(ExpiredScript, [SessionKey(e.SessionId), EventsKey(e.SessionId)],
        [e.EventId.ToString("N"), e.LearnerId, e.ExamId, e.CourseId, e.ExamTitle, SessionRecord.Ms(e.ExpiredAt)]));

    public async Task<(FactResult Result, SessionRecord? Record)> ApplyDecisionAsync(BoardDecisionRecorded e) =>
        Parse(e.SessionId, await Db.ScriptEvaluateAsync(DecisionScript, [SessionKey(e.SessionId), EventsKey(e.SessionId)],
        [
            e.EventId.ToString("N"), e.LearnerId, e.ExamId, e.CourseId, SessionRecord.Num(e.Version), SessionRecord.Num((long)e.Outcome),
            e.ReasonCode, e.ReasonText, SessionRecord.Ms(e.DecidedAt),
        ]));

    /// <summary>
    /// Adds the session to the learner's dashboard index (idempotent SADD). Sent before the fact's script, in the same
    /// round trip; the consumer awaits both before the message is acknowledged, so a retry repairs a missing index.
    /// </summary>
    public Task IndexLearnerAsync(string learnerId, string sessionId) => Db.SetAddAsync(LearnerKey(learnerId), sessionId);

    public async Task<SessionRecord?> GetAsync(string sessionId) =>
        SessionRecord.From(sessionId, await Db.HashGetAllAsync(SessionKey(sessionId)));

    /// <summary>The learner's sessions (the index may hold ids whose record is gone or someone else's: they are skipped).</summary>
    public async Task<IReadOnlyList<SessionRecord>> GetLearnerSessionsAsync(string learnerId)
    {
        var ids = await Db.SetMembersAsync(LearnerKey(learnerId));
        var reads = ids.Select(id => (Id: id.ToString(), Task: Db.HashGetAllAsync(SessionKey(id.ToString())))).ToList();
        await Task.WhenAll(reads.Select(r => r.Task));
        return reads
            .Select(r => SessionRecord.From(r.Id, r.Task.Result))
            .OfType<SessionRecord>()
            .Where(r => r.LearnerId == learnerId && r.HasProjection)
            .ToList();
    }

    /// <summary>Writes projection fields if the projection revision is still <paramref name="expectedRevision"/>: the new revision, 0 when someone else wrote first, -1 when erased.</summary>
    public async Task<long> TryWriteProjectionAsync(string sessionId, long expectedRevision, IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        var args = new RedisValue[1 + (fields.Count * 2)];
        args[0] = expectedRevision;
        for (var i = 0; i < fields.Count; i++)
        {
            args[1 + (2 * i)] = fields[i].Key;
            args[2 + (2 * i)] = fields[i].Value;
        }
        return (long)await Db.ScriptEvaluateAsync(ProjectionScript, [SessionKey(sessionId)], args);
    }

    /// <summary>Reserves a verification code for a session (before the certificate is written: readers check the session holds the code).</summary>
    public Task<bool> ReserveCodeAsync(string code, string sessionId) => Db.StringSetAsync(CodeKey(code), sessionId, when: When.NotExists);

    public Task ReleaseCodeAsync(string code) => Db.KeyDeleteAsync(CodeKey(code));

    /// <summary>The session holding a verification code, or null.</summary>
    public async Task<SessionRecord?> FindByCodeAsync(string code)
    {
        var sessionId = await Db.StringGetAsync(CodeKey(code));
        if (sessionId.IsNullOrEmpty) return null;
        var record = await GetAsync(sessionId.ToString());
        return record is not null && record.CertificateCode == code ? record : null;
    }

    /// <summary>Erases a learner: each session becomes a tombstone, then the code and dashboard indexes go.</summary>
    public async Task<(int Entries, int Certificates)> EraseLearnerAsync(string learnerId)
    {
        var ids = await Db.SetMembersAsync(LearnerKey(learnerId));
        int entries = 0, certificates = 0;
        foreach (var id in ids)
        {
            var result = (RedisResult[])(await Db.ScriptEvaluateAsync(EraseScript, [SessionKey(id.ToString())], [learnerId]))!;
            if ((long)result[0] == 0) continue;
            entries++;
            var code = result[1].ToString();
            if (!string.IsNullOrEmpty(code))
            {
                certificates++;
                await Db.KeyDeleteAsync(CodeKey(code));
            }
        }
        await Db.KeyDeleteAsync(LearnerKey(learnerId));
        return (entries, certificates);
    }

    /// <summary>The remembered outcome of an erasure request (so a retried request answers the same).</summary>
    public async Task<(int Entries, int Certificates)?> GetErasureAsync(string requestId)
    {
        var v = await Db.StringGetAsync(ErasureKey(requestId));
        if (v.IsNullOrEmpty) return null;
        var parts = v.ToString().Split(':');
        return (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    public Task RememberErasureAsync(string requestId, int entries, int certificates) =>
        Db.StringSetAsync(ErasureKey(requestId), FormattableString.Invariant($"{entries}:{certificates}"), TimeSpan.FromDays(30), When.NotExists);

    public Task PublishChangeAsync(string learnerId, string sessionId) =>
        redis.GetSubscriber().PublishAsync(DashboardChannel(learnerId), sessionId);

    /// <summary>A fact script's reply: the outcome, and the session's hash after it (none when erased).</summary>
    private static (FactResult, SessionRecord?) Parse(string sessionId, RedisResult r)
    {
        var reply = (RedisResult[])r!;
        var result = reply[0].ToString() switch
        {
            "applied" => FactResult.Applied,
            "duplicate" => FactResult.Duplicate,
            "superseded" => FactResult.Superseded,
            "erased" => FactResult.Erased,
            var other => throw new InvalidOperationException("Unexpected script result " + other),
        };
        if (result == FactResult.Erased || reply.Length < 2) return (result, null);
        var flat = (RedisResult[])reply[1]!;
        var entries = new HashEntry[flat.Length / 2];
        for (var i = 0; i < entries.Length; i++) entries[i] = new HashEntry((RedisValue)flat[2 * i], (RedisValue)flat[(2 * i) + 1]);
        return (result, SessionRecord.From(sessionId, entries));
    }
}
