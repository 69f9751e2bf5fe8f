using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;
using Vigil.Identity.Verification;
using Vigil.ServiceDefaults.Storage;

namespace Vigil.Identity.Storage;

/// <summary>A photo to write with a verification change.</summary>
internal sealed record NewPhoto(string PhotoId, byte[] EncryptedData, string ExamId, string Kind, DateTimeOffset TakenAt, DateTimeOffset ExpiresAt, string KeyId);

/// <summary>A stored photo, still encrypted.</summary>
internal sealed record StoredPhoto(string PhotoId, byte[] EncryptedData, string ExamId, string Kind, DateTimeOffset TakenAt, DateTimeOffset ExpiresAt);

/// <summary>A stored learner.</summary>
internal sealed record StoredLearner(string LearnerId, string Email, string CanonicalEmail, string DisplayName, DateTimeOffset RegisteredAt);

/// <summary>An exam's verification requirements.</summary>
internal sealed record ExamRequirements(string CourseId, bool RoomScanRequired);

/// <summary>What an erasure removed.</summary>
internal sealed record ErasureCounts(int Photos, int Verifications, bool Learner, string CanonicalEmail);

/// <summary>
/// A learner's verification for an exam as read, with the version a commit compares against (opaque: the stored
/// record itself, so that any change in between is seen).
/// </summary>
internal sealed record StoredVerification(VerificationRecord Record, VerificationVersion Version);

/// <summary>The version of a stored verification, for a compare-and-set (opaque outside the store).</summary>
internal readonly record struct VerificationVersion(string Stored);

/// <summary>Who holds a mailbox, since when (the stored claim is opaque outside the store).</summary>
internal sealed record EmailClaim(string LearnerId, DateTimeOffset ClaimedAt)
{
    internal string Stored { get; init; } = string.Empty;

    internal static EmailClaim Parse(string stored)
    {
        var bar = stored.LastIndexOf('|');
        if (bar < 0) return new EmailClaim(stored, DateTimeOffset.MinValue) { Stored = stored };
        var at = long.TryParse(stored[(bar + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : DateTimeOffset.MinValue;
        return new EmailClaim(stored[..bar], at) { Stored = stored };
    }

    internal static string Format(string learnerId, DateTimeOffset at) => learnerId + "|" + at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Everything the identity service keeps, in Redis, on the shared storage boundary: keys from <see cref="IdentityKeys"/>,
/// scripts beside this file, every write through <see cref="RedisStorage"/> (acknowledged only after Redis replied).
/// </summary>
internal sealed class IdentityStore(RedisStorage storage, IdentityKeys keys)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly RedisScript CommitVerificationScript = RedisScript.LoadVariadic<IdentityStore>("CommitVerification");
    private static readonly RedisScript SaveIdempotentScript = RedisScript.Load<IdentityStore>("SaveIdempotent");
    private static readonly RedisScript SaveLearnerScript = RedisScript.Load<IdentityStore>("SaveLearner");
    private static readonly RedisScript TakeOverEmailScript = RedisScript.Load<IdentityStore>("TakeOverEmail");
    private static readonly RedisScript ReleaseEmailScript = RedisScript.Load<IdentityStore>("ReleaseEmail");
    private static readonly RedisScript EraseScript = RedisScript.LoadVariadic<IdentityStore>("Erase");
    private static readonly RedisScript ExpireAfterDecisionScript = RedisScript.LoadVariadic<IdentityStore>("ExpireAfterDecision");
    private static readonly RedisScript PinPhotosScript = RedisScript.LoadVariadic<IdentityStore>("PinPhotos");

    private IDatabase Db => storage.Database;

    // ---- verification ----

    /// <summary>A learner's verification for an exam (a new one when none is stored), with its version.</summary>
    public async Task<StoredVerification> LoadVerificationAsync(string learnerId, string examId)
    {
        var raw = await Db.StringGetAsync(keys.Verification(learnerId, examId));
        if (raw.IsNullOrEmpty) return new StoredVerification(new VerificationRecord(), new VerificationVersion(string.Empty));
        var text = raw.ToString();
        return new StoredVerification(JsonSerializer.Deserialize<VerificationRecord>(text, Json) ?? new VerificationRecord(), new VerificationVersion(text));
    }

    /// <summary>
    /// Writes the new record if the stored one is still at <paramref name="expected"/> (optimistic concurrency), with the
    /// new photo, the deletion of replaced photos and the idempotent reply, in one atomic step; false when it changed.
    /// </summary>
    public async Task<bool> TryCommitVerificationAsync(
        string learnerId, string examId, VerificationVersion expected, VerificationRecord next, TimeSpan retention,
        NewPhoto? photo, IEnumerable<string> deletePhotoIds, (string Method, string RequestId, byte[] Response, TimeSpan Window) reply)
    {
        var verification = keys.Verification(learnerId, examId);
        var replaced = deletePhotoIds.Where(id => id != photo?.PhotoId).Distinct().Select(id => keys.Photo(learnerId, id)).ToList();
        List<RedisKey> scriptKeys = [verification, keys.Index(learnerId), keys.Idempotency(learnerId, reply.Method, reply.RequestId), .. replaced];
        if (photo is not null) scriptKeys.Add(keys.Photo(learnerId, photo.PhotoId));
        var args = new RedisValue[]
        {
            expected.Stored,
            JsonSerializer.Serialize(next, Json),
            (long)retention.TotalMilliseconds,
            reply.Response,
            (long)reply.Window.TotalMilliseconds,
            replaced.Count,
            photo is null ? "0" : "1",
            photo?.EncryptedData ?? RedisValue.EmptyString,
            photo?.ExamId ?? string.Empty,
            photo?.Kind ?? string.Empty,
            photo?.TakenAt.ToUnixTimeMilliseconds() ?? 0,
            photo?.ExpiresAt.ToUnixTimeMilliseconds() ?? 0,
            photo?.KeyId ?? string.Empty,
        };
        return (long)await storage.WriteAsync(verification, CommitVerificationScript, [.. scriptKeys], args) == 1;
    }

    /// <summary>A stored photo (still encrypted), or null.</summary>
    public async Task<StoredPhoto?> GetPhotoAsync(string learnerId, string photoId)
    {
        var fields = await Db.HashGetAllAsync(keys.Photo(learnerId, photoId));
        if (fields.Length == 0) return null;
        var map = fields.ToDictionary(f => f.Name.ToString(), f => f.Value);
        return new StoredPhoto(
            photoId,
            (byte[])map["data"]!,
            map["exam"].ToString(),
            map["kind"].ToString(),
            DateTimeOffset.FromUnixTimeMilliseconds((long)map["taken_at"]),
            DateTimeOffset.FromUnixTimeMilliseconds((long)map["expires_at"]));
    }

    /// <summary>
    /// The board decided on the exam: the learner's verification for it and its photos expire at <paramref name="at"/>
    /// (the decision plus the appeal window), unless an equal or later time was already given. Returns how many photos moved.
    /// </summary>
    public async Task<int> ExpireAfterDecisionAsync(string learnerId, string examId, DateTimeOffset at)
    {
        var stored = await LoadVerificationAsync(learnerId, examId);
        // The record's photos, and the photos a retake replaced but a session still pins (kept for the board until
        // now): every photo the learner's index lists, the script keeps those of this exam.
        var photoPrefix = keys.Photo(learnerId, string.Empty).ToString();
        var indexed = (await Db.SetMembersAsync(keys.Index(learnerId))).Select(v => v.ToString()).Where(k => k.StartsWith(photoPrefix, StringComparison.Ordinal));
        var photos = new[] { stored.Record.IdPhotoId, stored.Record.FacePhotoId }
            .Where(id => !string.IsNullOrEmpty(id)).Select(id => keys.Photo(learnerId, id!).ToString())
            .Concat(indexed).Distinct(StringComparer.Ordinal).Select(k => (RedisKey)k).ToList();
        if (photos.Count == 0) return 0;
        var verification = keys.Verification(learnerId, examId);
        return (int)(long)await storage.WriteAsync(verification, ExpireAfterDecisionScript,
            [verification, keys.Index(learnerId), .. photos], [at.ToUnixTimeMilliseconds(), examId]);
    }

    /// <summary>Pins photos to a session: a retake no longer deletes them before their retention ends. Returns how many were still there.</summary>
    public async Task<int> PinPhotosAsync(string learnerId, IReadOnlyCollection<string> photoIds, string sessionId)
    {
        if (photoIds.Count == 0) return 0;
        RedisKey[] photos = [.. photoIds.Select(id => keys.Photo(learnerId, id))];
        return (int)(long)await storage.WriteAsync(photos[0], PinPhotosScript, photos, [sessionId]);
    }

    // ---- idempotency ----

    /// <summary>The remembered reply of a call, or null.</summary>
    public async Task<byte[]?> GetIdempotentAsync(string learnerId, string method, string requestId) =>
        (byte[]?)await Db.StringGetAsync(keys.Idempotency(learnerId, method, requestId));

    /// <summary>Remembers the reply of a call that changed nothing else.</summary>
    public Task SaveIdempotentAsync(string learnerId, string method, string requestId, byte[] response, TimeSpan window)
    {
        var reply = keys.Idempotency(learnerId, method, requestId);
        return storage.WriteAsync(reply, SaveIdempotentScript,
            new { reply, index = keys.Index(learnerId), response, windowMs = (long)window.TotalMilliseconds });
    }

    // ---- exams ----

    /// <summary>An exam's verification requirements, or null.</summary>
    public async Task<ExamRequirements?> GetExamAsync(string examId)
    {
        var raw = await Db.StringGetAsync(keys.Exam(examId));
        return raw.IsNullOrEmpty ? null : JsonSerializer.Deserialize<ExamRequirements>(raw.ToString(), Json);
    }

    /// <summary>Sets an exam's verification requirements.</summary>
    public Task SetExamAsync(string examId, ExamRequirements requirements) =>
        storage.WriteAsync(keys.Exam(examId), (db, k) => db.StringSetAsync(k, JsonSerializer.Serialize(requirements, Json)));

    // ---- learners ----

    /// <summary>A learner, or null.</summary>
    public async Task<StoredLearner?> GetLearnerAsync(string learnerId)
    {
        var fields = await Db.HashGetAllAsync(keys.Learner(learnerId));
        if (fields.Length == 0) return null;
        var map = fields.ToDictionary(f => f.Name.ToString(), f => f.Value.ToString());
        return new StoredLearner(
            learnerId,
            map.GetValueOrDefault("email", string.Empty),
            map.GetValueOrDefault("canonical", string.Empty),
            map.GetValueOrDefault("display_name", string.Empty),
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(map.GetValueOrDefault("registered_at", "0"), CultureInfo.InvariantCulture)));
    }

    /// <summary>Writes the learner record with the call's idempotent reply; returns the canonical email it had before ("" if none).</summary>
    public async Task<string> SaveLearnerAsync(StoredLearner learner, (string Method, string RequestId, byte[] Response, TimeSpan Window) reply)
    {
        var key = keys.Learner(learner.LearnerId);
        var previous = await storage.WriteAsync(key, SaveLearnerScript, new
        {
            learner = key,
            reply = keys.Idempotency(learner.LearnerId, reply.Method, reply.RequestId),
            index = keys.Index(learner.LearnerId),
            email = learner.Email,
            canonical = learner.CanonicalEmail,
            displayName = learner.DisplayName,
            registeredAt = learner.RegisteredAt.ToUnixTimeMilliseconds(),
            response = reply.Response,
            windowMs = (long)reply.Window.TotalMilliseconds,
        });
        return previous.ToString();
    }

    /// <summary>Claims a mailbox for a learner if nobody holds it (null); the current holder's claim otherwise.</summary>
    public async Task<EmailClaim?> TryClaimEmailAsync(string canonical, string learnerId, DateTimeOffset now)
    {
        var key = keys.Email(canonical);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (await storage.WriteAsync(key, (db, k) => db.StringSetAsync(k, EmailClaim.Format(learnerId, now), when: When.NotExists))) return null;
            // Released between the two steps: claim again.
            if (await GetEmailClaimAsync(canonical) is { } current) return current;
        }
        throw new InvalidOperationException("The mailbox claim kept changing hands.");
    }

    /// <summary>Replaces a stale claim (its learner record does not hold the address) if it is still the one read.</summary>
    public async Task<bool> TakeOverEmailAsync(string canonical, EmailClaim stale, string learnerId, DateTimeOffset now)
    {
        var email = keys.Email(canonical);
        return (long)await storage.WriteAsync(email, TakeOverEmailScript, new { email, stale = stale.Stored, claim = EmailClaim.Format(learnerId, now) }) == 1;
    }

    /// <summary>Releases a mailbox if (and only if) it is held by the learner.</summary>
    public async Task ReleaseEmailAsync(string canonical, string learnerId)
    {
        if (await GetEmailClaimAsync(canonical) is not { } held || held.LearnerId != learnerId) return;
        var email = keys.Email(canonical);
        await storage.WriteAsync(email, ReleaseEmailScript, new { email, held = held.Stored });
    }

    /// <summary>Who holds a mailbox, or null.</summary>
    public async Task<EmailClaim?> GetEmailClaimAsync(string canonical)
    {
        var v = await Db.StringGetAsync(keys.Email(canonical));
        return v.IsNullOrEmpty ? null : EmailClaim.Parse(v.ToString());
    }

    // ---- erasure ----

    /// <summary>
    /// Releases the mailbox, then deletes every key of the learner in one atomic step (retried if a key was added
    /// meanwhile), then releases the mailbox the record named (again, or a new one). The mailbox goes first because
    /// the record is what names it: a crash after the record's deletion would otherwise leave the claim, which holds
    /// the learner's id, with nothing left to find it by; a repeated erasure (a redelivery) finds the record again.
    /// </summary>
    public async Task<ErasureCounts> EraseAsync(string learnerId)
    {
        if (await GetLearnerAsync(learnerId) is { CanonicalEmail.Length: > 0 } learner) await ReleaseEmailAsync(learner.CanonicalEmail, learnerId);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var members = await Db.SetMembersAsync(keys.Index(learnerId));
            if (await TryEraseAsync(learnerId, members.Select(m => (RedisKey)m.ToString()).ToList()) is { } counts) return counts;
        }
        throw new Vigil.ServiceDefaults.Errors.ConcurrentChangeException("The erasure kept racing with new writes of this learner; nothing is half-erased: retry.");
    }

    /// <summary>One erasure step over the keys the index listed when read; null when the index has changed since.</summary>
    internal async Task<ErasureCounts?> TryEraseAsync(string learnerId, IReadOnlyList<RedisKey> listed)
    {
        var learner = keys.Learner(learnerId);
        var r = (RedisResult[])(await storage.WriteAsync(learner, EraseScript, [learner, keys.Index(learnerId), .. listed], [keys.Of(learnerId).Root]))!;
        if ((long)r[0] < 0) return null;
        var canonical = r[3].ToString();
        if (canonical.Length > 0) await ReleaseEmailAsync(canonical, learnerId);
        return new ErasureCounts((int)(long)r[0], (int)(long)r[1], (long)r[2] == 1, canonical);
    }
}
