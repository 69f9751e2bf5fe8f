using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;
using Vigil.Identity.Verification;

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

/// <summary>Everything the identity service keeps, in Redis. Writes are acknowledged only after Redis replied.</summary>
internal sealed class IdentityStore(IConnectionMultiplexer redis)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private IDatabase Db => redis.GetDatabase();

    private const string CommitVerificationScript = """
        local cur = redis.call('GET', KEYS[1])
        if cur == false then cur = '' end
        if cur ~= ARGV[1] then return 0 end
        local ttl = tonumber(ARGV[3])
        redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
        redis.call('SADD', KEYS[2], KEYS[1])
        if ARGV[4] ~= '' then
          redis.call('SET', KEYS[3], ARGV[4], 'PX', tonumber(ARGV[5]))
          redis.call('SADD', KEYS[2], KEYS[3])
        end
        if ARGV[6] == '1' then
          redis.call('HSET', KEYS[4], 'data', ARGV[7], 'exam', ARGV[8], 'kind', ARGV[9], 'taken_at', ARGV[10], 'expires_at', ARGV[11], 'key_id', ARGV[12])
          redis.call('PEXPIRE', KEYS[4], ttl)
          redis.call('SADD', KEYS[2], KEYS[4])
        end
        for i = 5, #KEYS do
          redis.call('DEL', KEYS[i])
          redis.call('SREM', KEYS[2], KEYS[i])
        end
        if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
        return 1
        """;

    private const string SaveIdempotentScript = """
        redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
        redis.call('SADD', KEYS[2], KEYS[1])
        if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2])) end
        return 1
        """;

    private const string EraseScript = """
        local members = redis.call('SMEMBERS', KEYS[2])
        local declared = {}
        for i = 3, #KEYS do declared[KEYS[i]] = true end
        for _, k in ipairs(members) do
          if not declared[k] then return {-1, 0, 0, ''} end
        end
        local photos, verifs = 0, 0
        for i = 3, #KEYS do
          local k = KEYS[i]
          if redis.call('DEL', k) == 1 and not string.find(k, ':idem:', 1, true) then
            if string.find(k, ':photo:', 1, true) then photos = photos + 1
            elseif string.find(k, ':verif:', 1, true) then verifs = verifs + 1 end
          end
        end
        redis.call('DEL', KEYS[2])
        local canonical = redis.call('HGET', KEYS[1], 'canonical')
        local learner = redis.call('DEL', KEYS[1])
        if not canonical then canonical = '' end
        return {photos, verifs, learner, canonical}
        """;

    private const string SaveLearnerScript = """
        local previous = redis.call('HGET', KEYS[1], 'canonical')
        redis.call('HSET', KEYS[1], 'email', ARGV[1], 'canonical', ARGV[2], 'display_name', ARGV[3])
        if redis.call('HEXISTS', KEYS[1], 'registered_at') == 0 then
          redis.call('HSET', KEYS[1], 'registered_at', ARGV[4])
        end
        if ARGV[5] ~= '' then
          redis.call('SET', KEYS[2], ARGV[5], 'PX', tonumber(ARGV[6]))
          redis.call('SADD', KEYS[3], KEYS[2])
          if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[6]) then redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[6])) end
        end
        if not previous then previous = '' end
        return previous
        """;

    private const string CompareAndDeleteScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    private const string CompareAndSetScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end
        return 0
        """;

    // ---- verification ----

    public async Task<(VerificationRecord Record, string Raw)> LoadVerificationAsync(string learnerId, string examId)
    {
        var raw = await Db.StringGetAsync(IdentityKeys.Verification(learnerId, examId));
        if (raw.IsNullOrEmpty) return (new VerificationRecord(), string.Empty);
        var text = raw.ToString();
        return (JsonSerializer.Deserialize<VerificationRecord>(text, Json) ?? new VerificationRecord(), text);
    }

    /// <summary>
    /// Writes the new record if the stored one is still <paramref name="expectedRaw"/> (optimistic concurrency),
    /// with the new photo, the deletion of replaced photos and the idempotency record, in one atomic step.
    /// </summary>
    public async Task<bool> TryCommitVerificationAsync(
        string learnerId, string examId, string expectedRaw, VerificationRecord next, TimeSpan retention,
        NewPhoto? photo, IEnumerable<string> deletePhotoIds, (string Method, string RequestId, byte[] Response, TimeSpan Window)? idempotency)
    {
        var verificationKey = IdentityKeys.Verification(learnerId, examId);
        var keys = new List<RedisKey>
        {
            verificationKey,
            IdentityKeys.Index(learnerId),
            idempotency is { } i ? IdentityKeys.Idempotency(learnerId, i.Method, i.RequestId) : verificationKey,
            photo is not null ? IdentityKeys.Photo(learnerId, photo.PhotoId) : verificationKey,
        };
        keys.AddRange(deletePhotoIds.Where(id => id != photo?.PhotoId).Distinct().Select(id => (RedisKey)IdentityKeys.Photo(learnerId, id)));
        var args = new RedisValue[]
        {
            expectedRaw,
            JsonSerializer.Serialize(next, Json),
            (long)retention.TotalMilliseconds,
            idempotency is { } j ? j.Response : RedisValue.EmptyString,
            idempotency is { } k ? (long)k.Window.TotalMilliseconds : 0,
            photo is null ? "0" : "1",
            photo?.EncryptedData ?? RedisValue.EmptyString,
            photo?.ExamId ?? string.Empty,
            photo?.Kind ?? string.Empty,
            photo?.TakenAt.ToUnixTimeMilliseconds() ?? 0,
            photo?.ExpiresAt.ToUnixTimeMilliseconds() ?? 0,
            photo?.KeyId ?? string.Empty,
        };
        var result = await Db.ScriptEvaluateAsync(CommitVerificationScript, [.. keys], args);
        return (long)result == 1;
    }

    public async Task<StoredPhoto?> GetPhotoAsync(string learnerId, string photoId)
    {
        var fields = await Db.HashGetAllAsync(IdentityKeys.Photo(learnerId, photoId));
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

    /// <summary>The raw stored blob of a photo (tests check it is not an image).</summary>
    public async Task<byte[]?> GetRawPhotoDataAsync(string learnerId, string photoId) =>
        (byte[]?)await Db.HashGetAsync(IdentityKeys.Photo(learnerId, photoId), "data");

    // ---- idempotency ----

    public async Task<byte[]?> GetIdempotentAsync(string learnerId, string method, string requestId) =>
        (byte[]?)await Db.StringGetAsync(IdentityKeys.Idempotency(learnerId, method, requestId));

    public async Task SaveIdempotentAsync(string learnerId, string method, string requestId, byte[] response, TimeSpan window) =>
        await Db.ScriptEvaluateAsync(SaveIdempotentScript,
            [IdentityKeys.Idempotency(learnerId, method, requestId), IdentityKeys.Index(learnerId)],
            [response, (long)window.TotalMilliseconds]);

    // ---- exams ----

    public async Task<ExamRequirements?> GetExamAsync(string examId)
    {
        var raw = await Db.StringGetAsync(IdentityKeys.Exam(examId));
        return raw.IsNullOrEmpty ? null : JsonSerializer.Deserialize<ExamRequirements>(raw.ToString(), Json);
    }

    public async Task SetExamAsync(string examId, ExamRequirements requirements) =>
        await Db.StringSetAsync(IdentityKeys.Exam(examId), JsonSerializer.Serialize(requirements, Json));

    // ---- learners ----

    public async Task<StoredLearner?> GetLearnerAsync(string learnerId)
    {
        var fields = await Db.HashGetAllAsync(IdentityKeys.Learner(learnerId));
        if (fields.Length == 0) return null;
        var map = fields.ToDictionary(f => f.Name.ToString(), f => f.Value.ToString());
        return new StoredLearner(
            learnerId,
            map.GetValueOrDefault("email", string.Empty),
            map.GetValueOrDefault("canonical", string.Empty),
            map.GetValueOrDefault("display_name", string.Empty),
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(map.GetValueOrDefault("registered_at", "0"), CultureInfo.InvariantCulture)));
    }

    /// <summary>Writes the learner record (and the idempotency record); returns the canonical email it had before ("" if none).</summary>
    public async Task<string> SaveLearnerAsync(StoredLearner learner, (string Method, string RequestId, byte[] Response, TimeSpan Window)? idempotency)
    {
        var idemKey = idempotency is { } i ? IdentityKeys.Idempotency(learner.LearnerId, i.Method, i.RequestId) : IdentityKeys.Learner(learner.LearnerId);
        var result = await Db.ScriptEvaluateAsync(SaveLearnerScript,
            [IdentityKeys.Learner(learner.LearnerId), idemKey, IdentityKeys.Index(learner.LearnerId)],
            [learner.Email, learner.CanonicalEmail, learner.DisplayName, learner.RegisteredAt.ToUnixTimeMilliseconds(),
             idempotency is { } j ? j.Response : RedisValue.EmptyString, idempotency is { } k ? (long)k.Window.TotalMilliseconds : 0]);
        return result.ToString();
    }

    /// <summary>Claims a mailbox for a learner if nobody holds it; returns the current holder's claim ("learnerId|ms") otherwise.</summary>
    public async Task<string?> TryClaimEmailAsync(string canonical, string learnerId, DateTimeOffset now)
    {
        var key = IdentityKeys.Email(canonical);
        var claim = $"{learnerId}|{now.ToUnixTimeMilliseconds()}";
        if (await Db.StringSetAsync(key, claim, when: When.NotExists)) return null;
        var current = await Db.StringGetAsync(key);
        return current.IsNullOrEmpty ? await TryClaimEmailAsync(canonical, learnerId, now) : current.ToString();
    }

    /// <summary>Replaces a stale claim (its learner record does not hold the address) if it is still the one read.</summary>
    public async Task<bool> TakeOverEmailAsync(string canonical, string staleClaim, string learnerId, DateTimeOffset now) =>
        (long)await Db.ScriptEvaluateAsync(CompareAndSetScript, [IdentityKeys.Email(canonical)], [staleClaim, $"{learnerId}|{now.ToUnixTimeMilliseconds()}"]) == 1;

    /// <summary>Releases a mailbox if (and only if) it is held by the learner.</summary>
    public async Task ReleaseEmailAsync(string canonical, string learnerId)
    {
        var key = IdentityKeys.Email(canonical);
        var current = await Db.StringGetAsync(key);
        if (current.IsNullOrEmpty || OwnerOf(current.ToString()) != learnerId) return;
        await Db.ScriptEvaluateAsync(CompareAndDeleteScript, [key], [current]);
    }

    public async Task<string?> GetEmailClaimAsync(string canonical)
    {
        var v = await Db.StringGetAsync(IdentityKeys.Email(canonical));
        return v.IsNullOrEmpty ? null : v.ToString();
    }

    public static string OwnerOf(string claim) => claim.Contains('|', StringComparison.Ordinal) ? claim[..claim.LastIndexOf('|')] : claim;

    public static DateTimeOffset ClaimedAt(string claim) =>
        long.TryParse(claim[(claim.LastIndexOf('|') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : DateTimeOffset.MinValue;

    // ---- erasure ----

    /// <summary>Deletes every key of the learner in one atomic step (retried if a key was added meanwhile), then releases the mailbox.</summary>
    public async Task<ErasureCounts> EraseAsync(string learnerId)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var members = await Db.SetMembersAsync(IdentityKeys.Index(learnerId));
            var keys = new List<RedisKey> { IdentityKeys.Learner(learnerId), IdentityKeys.Index(learnerId) };
            keys.AddRange(members.Select(m => (RedisKey)m.ToString()));
            var result = (RedisResult[])(await Db.ScriptEvaluateAsync(EraseScript, [.. keys]))!;
            if ((long)result[0] < 0) continue;
            var canonical = result[3].ToString();
            if (canonical.Length > 0) await ReleaseEmailAsync(canonical, learnerId);
            return new ErasureCounts((int)(long)result[0], (int)(long)result[1], (long)result[2] == 1, canonical);
        }
        throw new InvalidOperationException("Erasure kept racing with new writes.");
    }
}
