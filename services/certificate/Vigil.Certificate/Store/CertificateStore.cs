using System.Globalization;
using StackExchange.Redis;
using Microsoft.Extensions.Options;
using Vigil.Certificate.Retention;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Storage;

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

/// <summary>What a projection write did.</summary>
internal enum ProjectionWrite
{
    /// <summary>Written (the revision moved on).</summary>
    Written,
    /// <summary>Someone wrote the projection since it was read: read again.</summary>
    Conflict,
    /// <summary>The session was erased meanwhile: nothing to show.</summary>
    Erased,
}

/// <summary>What erasing a learner removed: dashboard entries, and certificates among them (their codes now verify as withdrawn).</summary>
internal sealed record ErasureOutcome(int Entries, int Certificates);

/// <summary>A learner's erasure as the certificate service remembers it (for the redelivery horizon).</summary>
internal sealed record LearnerErasure(DateTimeOffset RequestedAt, DateTimeOffset ErasedAt);

/// <summary>What a verification code names: a session's record, a certificate whose learner was erased, or nothing.</summary>
internal sealed record CodeLookup(SessionRecord? Record, DateTimeOffset? ErasedAt)
{
    /// <summary>Nothing under this code.</summary>
    public static CodeLookup None { get; } = new(null, null);
}

/// <summary>
/// The certificate service's state in Redis (docs/certificate.md), on the shared storage boundary: keys from
/// <see cref="CertificateKeys"/>, scripts beside this file, every write through <see cref="RedisStorage"/>. Every fact
/// is stored by ONE script on keys sharing the <c>{sessionId}</c> hash tag: the event-id check, the version check and
/// the write are one atomic step, which also returns the session as it left it (the projection starts from it: no
/// second read). The projection is written separately with a compare-and-set on its revision.
/// </summary>
internal sealed class CertificateStore(RedisStorage storage, CertificateKeys keys, IOptions<RetentionOptions>? retention = null)
{
    /// <summary>The value of a code whose certificate's learner was erased: a session id never holds a brace.</summary>
    private const string ErasedCode = "{erased}|";

    private readonly RetentionOptions _retention = retention?.Value ?? new RetentionOptions();
    private static readonly RedisScript SubmittedScript = RedisScript.Load<CertificateStore>("ApplySubmitted");
    private static readonly RedisScript ExpiredScript = RedisScript.Load<CertificateStore>("ApplyExpired");
    private static readonly RedisScript DecisionScript = RedisScript.Load<CertificateStore>("ApplyDecision");
    private static readonly RedisScript ProjectionScript = RedisScript.Load<CertificateStore>("WriteProjection");
    private static readonly RedisScript EraseScript = RedisScript.Load<CertificateStore>("EraseSession");
    private static readonly RedisScript MarkLearnerErasedScript = RedisScript.Load<CertificateStore>("MarkLearnerErased");
    private static readonly RedisScript IndexLearnerScript = RedisScript.Load<CertificateStore>("IndexLearner");

    private IDatabase Db => storage.Database;

    // ---- facts ----

    public Task<(FactResult Result, SessionRecord? Record)> ApplySubmittedAsync(SessionSubmitted e) =>
        ApplyAsync(SubmittedScript, e.SessionId, new
        {
            session = keys.Session(e.SessionId),
            events = keys.Events(e.SessionId),
            eventId = e.EventId.ToString("N"),
            learnerId = e.LearnerId,
            examId = e.ExamId,
            courseId = e.CourseId,
            examTitle = e.ExamTitle,
            learnerName = e.LearnerName,
            kind = e.Kind.ToString(),
            submittedAt = SessionRecord.Ms(e.SubmittedAt),
            score = SessionRecord.Num(e.Score),
            maxScore = SessionRecord.Num(e.MaxScore),
            passMark = SessionRecord.Num(e.PassMark),
            idPhoto = e.IdDocumentPhotoAccepted ? "1" : "0",
            eventsTtlMs = Ms(_retention.RedeliveryHorizon),
            recordTtlMs = Ms(_retention.Results),
        });

    public Task<(FactResult Result, SessionRecord? Record)> ApplyExpiredAsync(SessionExpired e) =>
        ApplyAsync(ExpiredScript, e.SessionId, new
        {
            session = keys.Session(e.SessionId),
            events = keys.Events(e.SessionId),
            eventId = e.EventId.ToString("N"),
            learnerId = e.LearnerId,
            examId = e.ExamId,
            courseId = e.CourseId,
            examTitle = e.ExamTitle,
            expiredAt = SessionRecord.Ms(e.ExpiredAt),
            eventsTtlMs = Ms(_retention.RedeliveryHorizon),
            recordTtlMs = Ms(_retention.Results),
        });

    public Task<(FactResult Result, SessionRecord? Record)> ApplyDecisionAsync(BoardDecisionRecorded e) =>
        ApplyAsync(DecisionScript, e.SessionId, new
        {
            session = keys.Session(e.SessionId),
            events = keys.Events(e.SessionId),
            eventId = e.EventId.ToString("N"),
            learnerId = e.LearnerId,
            examId = e.ExamId,
            courseId = e.CourseId,
            version = SessionRecord.Num(e.Version),
            outcome = SessionRecord.Num((long)e.Outcome),
            reasonCode = e.ReasonCode,
            reasonText = e.ReasonText,
            decidedAt = SessionRecord.Ms(e.DecidedAt),
            eventsTtlMs = Ms(_retention.RedeliveryHorizon),
            recordTtlMs = Ms(_retention.Results),
        });

    /// <summary>
    /// Adds the session to the learner's dashboard index (idempotent SADD). Sent before the fact's script, in the same
    /// round trip; the consumer awaits both before the message is acknowledged, so a retry repairs a missing index.
    /// </summary>
    public Task IndexLearnerAsync(string learnerId, string sessionId)
    {
        var index = keys.Learner(learnerId);
        return storage.WriteAsync(index, IndexLearnerScript, new { index, sessionId, ttlMs = Ms(_retention.Certificates) });
    }

    // ---- reads ----

    /// <summary>A session's record, or null (none, or erased).</summary>
    public async Task<SessionRecord?> GetAsync(string sessionId) =>
        SessionRecord.From(sessionId, await Db.HashGetAllAsync(keys.Session(sessionId)));

    /// <summary>The learner's sessions (the index may hold ids whose record is gone or someone else's: they are skipped).</summary>
    public async Task<IReadOnlyList<SessionRecord>> GetLearnerSessionsAsync(string learnerId)
    {
        var ids = await Db.SetMembersAsync(keys.Learner(learnerId));
        var reads = ids.Select(id => (Id: id.ToString(), Task: Db.HashGetAllAsync(keys.Session(id.ToString())))).ToList();
        await Task.WhenAll(reads.Select(r => r.Task));
        return reads
            .Select(r => SessionRecord.From(r.Id, r.Task.Result))
            .OfType<SessionRecord>()
            .Where(r => r.LearnerId == learnerId && r.HasProjection)
            .ToList();
    }

    /// <summary>The session holding a verification code, or null.</summary>
    public async Task<SessionRecord?> FindByCodeAsync(string code) => (await LookupCodeAsync(code)).Record;

    /// <summary>What a verification code names: the session holding it, a certificate whose learner was erased, or nothing.</summary>
    public async Task<CodeLookup> LookupCodeAsync(string code)
    {
        var value = (await Db.StringGetAsync(keys.Code(code))).ToString();
        if (string.IsNullOrEmpty(value)) return CodeLookup.None;
        if (value.StartsWith(ErasedCode, StringComparison.Ordinal))
        {
            return long.TryParse(value.AsSpan(ErasedCode.Length), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
                ? new CodeLookup(null, DateTimeOffset.FromUnixTimeMilliseconds(ms))
                : CodeLookup.None;
        }
        var record = await GetAsync(value);
        return record is not null && record.CertificateCode == code ? new CodeLookup(record, null) : CodeLookup.None;
    }

    // ---- projection ----

    /// <summary>
    /// Writes the projection (and <paramref name="issued"/>, a new certificate, once) if the projection revision is still
    /// <paramref name="expectedRevision"/>.
    /// </summary>
    public async Task<ProjectionWrite> TryWriteProjectionAsync(string sessionId, long expectedRevision, Projection projection, IssuedCertificate? issued, DateTimeOffset now)
    {
        var session = keys.Session(sessionId);
        var certificate = projection.Certificate;
        var revision = (long)await storage.WriteAsync(session, ProjectionScript, new
        {
            session,
            ttlMs = Ms(certificate is null ? _retention.Results : _retention.Certificates),
            expectedRevision,
            status = SessionRecord.Num((long)projection.Status),
            reason = projection.Reason,
            reasonCode = projection.ReasonCode,
            scoreReleased = projection.ScoreReleased ? "1" : "0",
            updatedAt = SessionRecord.Ms(now),
            issued = issued is null ? "0" : "1",
            certificateId = issued?.CertificateId ?? string.Empty,
            code = issued?.Code ?? string.Empty,
            issuedAt = issued is null ? string.Empty : SessionRecord.Ms(issued.IssuedAt),
            payload = issued is null ? string.Empty : Convert.ToBase64String(issued.Payload),
            signature = issued is null ? string.Empty : Convert.ToBase64String(issued.Signature),
            keyId = issued?.KeyId ?? string.Empty,
            hasCertificate = certificate is null ? "0" : "1",
            certificateStatus = SessionRecord.Num((long)(certificate?.Status ?? 0)),
            withdrawnAt = certificate?.WithdrawnAt is { } at ? SessionRecord.Ms(at) : string.Empty,
            withdrawalReason = certificate?.WithdrawalReason ?? string.Empty,
        });
        return revision switch
        {
            > 0 => ProjectionWrite.Written,
            0 => ProjectionWrite.Conflict,
            _ => ProjectionWrite.Erased,
        };
    }

    /// <summary>
    /// Reserves a verification code for a session (before the certificate is written: readers check the session holds
    /// the code), for the certificates' retention.
    /// </summary>
    public Task<bool> ReserveCodeAsync(string code, string sessionId) =>
        storage.WriteAsync(keys.Code(code), (db, k) => db.StringSetAsync(k, sessionId, _retention.Certificates, When.NotExists));

    /// <summary>Keeps a certificate's code as long as its record, after the record changed (a withdrawal, a new decision).</summary>
    public Task KeepCodeAsync(string code) =>
        storage.WriteAsync(keys.Code(code), (db, k) => db.KeyExpireAsync(k, _retention.Certificates));

    /// <summary>Gives back a code reserved for a certificate that was not written.</summary>
    public Task ReleaseCodeAsync(string code) => storage.WriteAsync(keys.Code(code), (db, k) => db.KeyDeleteAsync(k));

    // ---- erasure ----

    /// <summary>
    /// Erases a learner for a request made at <paramref name="requestedAt"/>: each session submitted (or expired) by
    /// then becomes a tombstone (for the redelivery horizon), each certificate's code is kept as "withdrawn at
    /// <paramref name="now"/> for erasure" (no session, no name; as long as the code would have lived), and leaves the
    /// dashboard index. A session submitted after the request stays, with its index entry: a request redelivered after
    /// the learner came back (queues are not ordered between them) erased their new result.
    /// </summary>
    public async Task<ErasureOutcome> EraseLearnerAsync(string learnerId, DateTimeOffset requestedAt, DateTimeOffset now)
    {
        var ids = await Db.SetMembersAsync(keys.Learner(learnerId));
        int entries = 0, certificates = 0;
        foreach (var id in ids)
        {
            var (status, code) = await EraseSessionCoreAsync(id.ToString(), learnerId, now, requestedAt);
            if (status == 2) continue;
            if (status == 1) entries++;
            if (code.Length > 0) certificates++;
            await UnindexLearnerAsync(learnerId, id.ToString());
        }
        return new ErasureOutcome(entries, certificates);
    }

    /// <summary>
    /// Erases one session (of <paramref name="learnerId"/>, or whoever's when null): a tombstone for the redelivery
    /// horizon, and its certificate's code kept as withdrawn for erasure. True: it held a certificate; false: it did
    /// not; null: nothing erased now (already a tombstone, or another learner's).
    /// </summary>
    public async Task<bool?> EraseSessionAsync(string sessionId, string? learnerId, DateTimeOffset now)
    {
        var (status, code) = await EraseSessionCoreAsync(sessionId, learnerId, now, notAfter: null);
        return status == 1 ? code.Length > 0 : null;
    }

    /// <summary>EraseSession.lua: 1 erased (with the code kept as withdrawn, if any), 0 nothing to erase, 2 left alone (submitted after <paramref name="notAfter"/>).</summary>
    private async Task<(long Status, string Code)> EraseSessionCoreAsync(string sessionId, string? learnerId, DateTimeOffset now, DateTimeOffset? notAfter)
    {
        var session = keys.Session(sessionId);
        var r = (RedisResult[])(await storage.WriteAsync(session, EraseScript, new
        {
            session,
            events = keys.Events(sessionId),
            learnerId = learnerId ?? string.Empty,
            horizonMs = Ms(_retention.RedeliveryHorizon),
            notAfter = notAfter is { } n ? n.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : string.Empty,
        }))!;
        var (status, code) = ((long)r[0], r[1].ToString());
        if (status == 1 && code.Length > 0)
        {
            await storage.WriteAsync(keys.Code(code), (db, k) =>
                db.StringSetAsync(k, ErasedCode + now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), null, keepTtl: true, When.Exists));
        }
        return (status, status == 1 ? code : string.Empty);
    }

    /// <summary>Takes a session out of a learner's dashboard index (a fact that raced an erasure put it back).</summary>
    public Task UnindexLearnerAsync(string learnerId, string sessionId) =>
        storage.WriteAsync(keys.Learner(learnerId), (db, k) => db.SetRemoveAsync(k, sessionId));

    /// <summary>Remembers that a learner was erased for a request recorded at <paramref name="requestedAt"/> (the latest wins), for the redelivery horizon.</summary>
    public Task MarkLearnerErasedAsync(string learnerId, DateTimeOffset requestedAt, DateTimeOffset erasedAt)
    {
        var tombstone = keys.ErasedLearner(ErasureDigest.Of(learnerId));
        return storage.WriteAsync(tombstone, MarkLearnerErasedScript, new
        {
            tombstone,
            requestedAt = requestedAt.ToUnixTimeMilliseconds(),
            erasedAt = erasedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            horizonMs = Ms(_retention.RedeliveryHorizon),
        });
    }

    /// <summary>The learner's erasure, while it is remembered (the redelivery horizon), or null.</summary>
    public async Task<LearnerErasure?> GetLearnerErasureAsync(string learnerId)
    {
        var value = (await Db.StringGetAsync(keys.ErasedLearner(ErasureDigest.Of(learnerId)))).ToString();
        var parts = value?.Split('|') ?? [];
        return parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var requested)
            && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var erased)
            ? new LearnerErasure(DateTimeOffset.FromUnixTimeMilliseconds(requested), DateTimeOffset.FromUnixTimeMilliseconds(erased))
            : null;
    }

    // ---- dashboard notifications ----

    /// <summary>Tells every replica watching the learner's dashboard that a session changed.</summary>
    public Task PublishChangeAsync(string learnerId, string sessionId) => storage.Subscriber.PublishAsync(keys.Dashboard(learnerId), sessionId);

    /// <summary>Calls <paramref name="onChange"/> with the session id of every change of the learner's dashboard, until disposed.</summary>
    public async Task<IAsyncDisposable> WatchLearnerAsync(string learnerId, Action<string> onChange)
    {
        var channel = keys.Dashboard(learnerId);
        Action<RedisChannel, RedisValue> handler = (_, sessionId) => onChange(sessionId.ToString());
        await storage.Subscriber.SubscribeAsync(channel, handler);
        return new Subscription(storage.Subscriber, channel, handler);
    }

    private sealed class Subscription(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await subscriber.UnsubscribeAsync(channel, handler);
    }

    private static long Ms(TimeSpan t) => (long)t.TotalMilliseconds;

    /// <summary>A fact script's reply: the outcome, and the session's hash after it (none when erased).</summary>
    private async Task<(FactResult, SessionRecord?)> ApplyAsync(RedisScript script, string sessionId, object parameters)
    {
        var reply = (RedisResult[])(await storage.WriteAsync(keys.Session(sessionId), script, parameters))!;
        var result = reply[0].ToString() switch
        {
            "applied" => FactResult.Applied,
            "duplicate" => FactResult.Duplicate,
            "superseded" => FactResult.Superseded,
            "erased" => FactResult.Erased,
            var other => throw new InvalidOperationException($"The {script.Name} script replied '{other}', which this version does not know."),
        };
        if (result == FactResult.Erased) return (result, null);
        var flat = (RedisResult[])reply[1]!;
        var entries = new HashEntry[flat.Length / 2];
        for (var i = 0; i < entries.Length; i++) entries[i] = new HashEntry((RedisValue)flat[2 * i], (RedisValue)flat[(2 * i) + 1]);
        return (result, SessionRecord.From(sessionId, entries));
    }
}
