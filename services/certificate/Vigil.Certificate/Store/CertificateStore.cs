using System.Globalization;
using StackExchange.Redis;
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

/// <summary>What an erasure request removed (remembered, so that a retry answers the same).</summary>
internal sealed record ErasureOutcome(int Entries, int Certificates);

/// <summary>
/// The certificate service's state in Redis (docs/certificate.md), on the shared storage boundary: keys from
/// <see cref="CertificateKeys"/>, scripts beside this file, every write through <see cref="RedisStorage"/>. Every fact
/// is stored by ONE script on keys sharing the <c>{sessionId}</c> hash tag: the event-id check, the version check and
/// the write are one atomic step, which also returns the session as it left it (the projection starts from it: no
/// second read). The projection is written separately with a compare-and-set on its revision.
/// </summary>
internal sealed class CertificateStore(RedisStorage storage, CertificateKeys keys)
{
    private static readonly RedisScript SubmittedScript = RedisScript.Load<CertificateStore>("ApplySubmitted");
    private static readonly RedisScript ExpiredScript = RedisScript.Load<CertificateStore>("ApplyExpired");
    private static readonly RedisScript DecisionScript = RedisScript.Load<CertificateStore>("ApplyDecision");
    private static readonly RedisScript ProjectionScript = RedisScript.Load<CertificateStore>("WriteProjection");
    private static readonly RedisScript EraseScript = RedisScript.Load<CertificateStore>("EraseSession");

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
        });

    /// <summary>
    /// Adds the session to the learner's dashboard index (idempotent SADD). Sent before the fact's script, in the same
    /// round trip; the consumer awaits both before the message is acknowledged, so a retry repairs a missing index.
    /// </summary>
    public Task IndexLearnerAsync(string learnerId, string sessionId) =>
        storage.WriteAsync(keys.Learner(learnerId), (db, k) => db.SetAddAsync(k, sessionId));

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
    public async Task<SessionRecord?> FindByCodeAsync(string code)
    {
        var sessionId = await Db.StringGetAsync(keys.Code(code));
        if (sessionId.IsNullOrEmpty) return null;
        var record = await GetAsync(sessionId.ToString());
        return record is not null && record.CertificateCode == code ? record : null;
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

    /// <summary>Reserves a verification code for a session (before the certificate is written: readers check the session holds the code).</summary>
    public Task<bool> ReserveCodeAsync(string code, string sessionId) =>
        storage.WriteAsync(keys.Code(code), (db, k) => db.StringSetAsync(k, sessionId, when: When.NotExists));

    /// <summary>Gives back a code reserved for a certificate that was not written.</summary>
    public Task ReleaseCodeAsync(string code) => storage.WriteAsync(keys.Code(code), (db, k) => db.KeyDeleteAsync(k));

    // ---- erasure ----

    /// <summary>Erases a learner: each session becomes a tombstone, then the code and dashboard indexes go.</summary>
    public async Task<ErasureOutcome> EraseLearnerAsync(string learnerId)
    {
        var ids = await Db.SetMembersAsync(keys.Learner(learnerId));
        int entries = 0, certificates = 0;
        foreach (var id in ids)
        {
            var session = keys.Session(id.ToString());
            var r = (RedisResult[])(await storage.WriteAsync(session, EraseScript, new { session, learnerId }))!;
            if ((long)r[0] == 0) continue;
            entries++;
            var code = r[1].ToString();
            if (code.Length > 0)
            {
                certificates++;
                await storage.WriteAsync(keys.Code(code), (db, k) => db.KeyDeleteAsync(k));
            }
        }
        await storage.WriteAsync(keys.Learner(learnerId), (db, k) => db.KeyDeleteAsync(k));
        return new ErasureOutcome(entries, certificates);
    }

    /// <summary>The remembered outcome of an erasure request, or null.</summary>
    public async Task<ErasureOutcome?> GetErasureAsync(string requestKey)
    {
        var v = await Db.StringGetAsync(keys.Erasure(requestKey));
        if (v.IsNullOrEmpty) return null;
        var parts = v.ToString().Split(':');
        return new ErasureOutcome(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>Remembers the outcome of an erasure request for 30 days (the first one stays).</summary>
    public Task RememberErasureAsync(string requestKey, ErasureOutcome outcome) =>
        storage.WriteAsync(keys.Erasure(requestKey), (db, k) =>
            db.StringSetAsync(k, FormattableString.Invariant($"{outcome.Entries}:{outcome.Certificates}"), TimeSpan.FromDays(30), When.NotExists));

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
