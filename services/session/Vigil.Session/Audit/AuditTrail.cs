using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Storage;

namespace Vigil.Session.Audit;

/// <summary>Where an audit entry is kept: beside the record its action changes, so the action's script writes both.</summary>
internal enum AuditPlace
{
    /// <summary>In the session's slot (<c>s:{sid}:audit</c>): decisions, exceptions, second looks.</summary>
    Session,
    /// <summary>In the exam's slot (<c>exam:{eid}:audit</c>): exams created or changed, allowances.</summary>
    Exam,
    /// <summary>In the course's slot (<c>course:{cid}:audit-entries</c>): actions that write nothing else (a results export).</summary>
    Course,
}

/// <summary>
/// An audit entry ready for its action's script: <see cref="Key"/> (in the action's slot), <see cref="EntryId"/> and
/// <see cref="Entry"/> go to the script as <c>@audit</c>, <c>@auditId</c>, <c>@auditEntry</c>; <see cref="Member"/> is
/// its place in the course's index, written before the script.
/// </summary>
internal sealed record AuditWrite(AuditEntry Proto, RedisKey Key, string EntryId, byte[] Entry, string Member)
{
    /// <summary>The script parameters of no entry (the action records none this time).</summary>
    public static (RedisKey Key, string Id, byte[] Entry) None(RedisKey key) => (key, string.Empty, []);
}

/// <summary>One page of a course's audit trail: the entries, and the index member to continue after (null at the end).</summary>
internal sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, string? ContinueAfter);

/// <summary>
/// The audit trail (docs/session.md, "Audit trail"). Every staff and board action writes its entry in the SAME script as
/// the action, in the slot of the record it changes (a hash: entry id → <see cref="AuditEntry"/>, written with HSETNX and
/// never changed). A per-course index (<c>course:{cid}:audit</c>, a sorted set ordered by member
/// <c>atMs|entryId|place|id</c>) lets readers page a course's trail; it lives in the course's slot, so it is written
/// BEFORE the action's script (as the review index is): a crash in between, or an action that was refused or was a retry,
/// leaves a member whose entry does not exist, which readers skip (and drop once it is older than
/// <see cref="AbandonedAfter"/>); the action itself takes its own member out when its script wrote no entry.
/// </summary>
internal sealed class AuditTrail(RedisStorage storage, SessionKeys keys, TimeProvider time)
{
    private static readonly RedisScript AppendCourseScript = RedisScript.Load<AuditTrail>("AppendCourseAudit");
    private static readonly RedisScript PseudonymiseScript = RedisScript.Load<AuditTrail>("PseudonymiseAuditEntry");

    /// <summary>How a pseudonym starts: what replaces an erased learner's id in their audit entries.</summary>
    internal const string PseudonymPrefix = "erased-";

    /// <summary>How old an index member without its entry is before a reader drops it (its action can no longer write it).</summary>
    internal static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(5);

    private IDatabase Db => storage.Database;

    /// <summary>Sorted set (score 0, ordered by member): the course's audit index.</summary>
    private RedisKey IndexKey(string courseId) => storage.Keys.Record("course", courseId).Part("audit");

    /// <summary>
    /// Set: the audit entries that name a learner (member <c>place|id|entryId</c>), in the learner's slot; written before
    /// the entry's script (another slot, as the course index), read and deleted by the erasure's pseudonymisation.
    /// </summary>
    internal RedisKey LearnerIndexKey(string learnerId) => storage.Keys.Record("learner", learnerId).Part("audit");

    /// <summary>The hash that holds the entries of one place.</summary>
    internal RedisKey EntriesKey(AuditPlace place, string id) => place switch
    {
        AuditPlace.Session => keys.Session(id).Audit,
        AuditPlace.Exam => storage.Keys.Record("exam", id).Part("audit"),
        _ => storage.Keys.Record("course", id).Part("audit-entries"),
    };

    /// <summary>The role in which <paramref name="caller"/> acts on a course as its staff (staff, else a service).</summary>
    public static AuditActorRole StaffRole(Caller caller, string courseId) =>
        caller.IsStaffOf(courseId) || !caller.IsService ? AuditActorRole.Staff : AuditActorRole.Service;

    /// <summary>A new entry, stamped now.</summary>
    public AuditEntry Entry(Caller caller, AuditActorRole role, AuditActionKind kind, string courseId, string summary,
        string examId = "", string sessionId = "", string learnerId = "") => new()
    {
        EntryId = Guid.NewGuid().ToString("N"),
        At = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
        Actor = caller.Subject,
        ActorRole = role,
        Kind = kind,
        CourseId = courseId,
        ExamId = examId,
        SessionId = sessionId,
        LearnerId = learnerId,
        Summary = summary,
    };

    /// <summary>Puts the entry in its course's index (before its action's script writes it) and returns what the script needs.</summary>
    public async Task<AuditWrite> PrepareAsync(AuditEntry entry, AuditPlace place, string placeId)
    {
        var member = Member(entry, place, placeId);
        var index = IndexKey(entry.CourseId);
        await storage.WriteAsync(index, (db, k) => db.SortedSetAddAsync(k, member, 0));
        // An entry naming a learner is in their index too, so their erasure finds it (a member without entry is skipped).
        if (entry.LearnerId.Length > 0)
        {
            await storage.WriteAsync(LearnerIndexKey(entry.LearnerId), (db, k) => db.SetAddAsync(k, LearnerMember(place, placeId, entry.EntryId)));
        }
        return new AuditWrite(entry, EntriesKey(place, placeId), entry.EntryId, entry.ToByteArray(), member);
    }

    /// <summary>Takes the entry's member out of the index: its action was refused, or was a retry, and wrote no entry.</summary>
    public async Task AbandonAsync(AuditWrite write)
    {
        await storage.WriteAsync(IndexKey(write.Proto.CourseId), (db, k) => db.SortedSetRemoveAsync(k, write.Member));
        if (write.Proto.LearnerId.Length > 0)
        {
            var (place, id) = PlaceOf(write.Member);
            await storage.WriteAsync(LearnerIndexKey(write.Proto.LearnerId), (db, k) => db.SetRemoveAsync(k, LearnerMember(place, id, write.EntryId)));
        }
    }

    /// <summary>
    /// Erasure: every audit entry that names the learner (their index) keeps its fact, but the learner id, wherever it
    /// appears in the entry, becomes one pseudonym (<c>erased-</c> and 32 random hex digits, kept nowhere else), the same
    /// for all of the learner's entries so the board still sees they belong together. Each entry is rewritten in its own
    /// slot only if it is still the entry read; the index is deleted last, so a pass cut short is finished by the next
    /// one with the pseudonym it finds in the entries already rewritten. Returns how many entries were rewritten now.
    /// Only erasure rewrites an entry: no RPC changes one.
    /// </summary>
    public async Task<int> PseudonymiseLearnerAsync(string learnerId)
    {
        var index = LearnerIndexKey(learnerId);
        var members = (await Db.SetMembersAsync(index)).Select(v => v.ToString()).ToList();
        if (members.Count == 0) return 0;
        var places = members.Select(ParseLearnerMember).ToList();
        var loaded = await Task.WhenAll(places.Select(p => p is null ? Task.FromResult(RedisValue.Null) : Db.HashGetAsync(EntriesKey(p.Value.Place, p.Value.Id), p.Value.EntryId)));
        var entries = loaded.Select(v => v.IsNullOrEmpty ? null : AuditEntry.Parser.ParseFrom((byte[])v!)).ToList();
        var pseudonym = entries.FirstOrDefault(e => e is not null && e.LearnerId != learnerId && e.LearnerId.StartsWith(PseudonymPrefix, StringComparison.Ordinal))?.LearnerId
            ?? PseudonymPrefix + Guid.NewGuid().ToString("N");
        var rewritten = 0;
        for (var i = 0; i < members.Count; i++)
        {
            if (places[i] is not { } p || entries[i] is not { } entry || !Names(entry, learnerId)) continue;
            var kept = entry.Clone();
            if (kept.LearnerId == learnerId) kept.LearnerId = pseudonym;
            kept.Summary = kept.Summary.Replace(learnerId, pseudonym, StringComparison.Ordinal);
            var hash = EntriesKey(p.Place, p.Id);
            if ((long)await storage.WriteAsync(hash, PseudonymiseScript, new { entries = hash, entryId = p.EntryId, expected = (byte[])loaded[i]!, entry = kept.ToByteArray() }) == 1)
            {
                rewritten++;
            }
        }
        await storage.WriteAsync(index, (db, k) => db.KeyDeleteAsync(k));
        return rewritten;
    }

    /// <summary>Whether an entry names the learner (its learner id, or the id in its summary).</summary>
    private static bool Names(AuditEntry entry, string learnerId) =>
        entry.LearnerId == learnerId || entry.Summary.Contains(learnerId, StringComparison.Ordinal);

    private static string LearnerMember(AuditPlace place, string placeId, string entryId) =>
        place.ToString().ToLowerInvariant() + "|" + placeId + "|" + entryId;

    private static (AuditPlace Place, string Id, string EntryId)? ParseLearnerMember(string member)
    {
        var parts = member.Split('|');
        if (parts.Length != 3 || parts[1].Length == 0 || parts[2].Length == 0) return null;
        AuditPlace? place = parts[0] switch { "session" => AuditPlace.Session, "exam" => AuditPlace.Exam, "course" => AuditPlace.Course, _ => null };
        return place is { } pl ? (pl, parts[1], parts[2]) : null;
    }

    private static (AuditPlace Place, string Id) PlaceOf(string member) => Parse(member) is { } p ? (p.Place, p.Id) : (AuditPlace.Course, string.Empty);

    /// <summary>Records an action that writes nothing else (a results export): entry and index member in one script in the course's slot.</summary>
    public async Task<AuditEntry> AppendCourseActionAsync(AuditEntry entry)
    {
        var entries = EntriesKey(AuditPlace.Course, entry.CourseId);
        await storage.WriteAsync(entries, AppendCourseScript, new
        {
            entries,
            index = IndexKey(entry.CourseId),
            auditId = entry.EntryId,
            auditEntry = entry.ToByteArray(),
            member = Member(entry, AuditPlace.Course, entry.CourseId),
        });
        return entry;
    }

    /// <summary>
    /// Up to <paramref name="pageSize"/> entries of a course's trail after the member <paramref name="after"/>, in
    /// [<paramref name="from"/>, <paramref name="to"/>), of <paramref name="kinds"/> (empty: all). Reads the index in
    /// batches and stops at a full page or after <paramref name="scanLimit"/> members (a page may then be short).
    /// </summary>
    public async Task<AuditPage> ReadAsync(string courseId, string? after, DateTimeOffset? from, DateTimeOffset? to,
        IReadOnlySet<AuditActionKind> kinds, int pageSize, int scanLimit)
    {
        var index = IndexKey(courseId);
        // Members start with the time (13 digits), so a time bound is a bound on the members: "to" sorts before every
        // member of its own millisecond, "from" before every member of its own.
        RedisValue max = to is { } t ? Ms(t) : default;
        var entries = new List<AuditEntry>();
        var cursor = after;
        var scanned = 0;
        var now = time.GetUtcNow();
        while (entries.Count < pageSize && scanned < scanLimit)
        {
            RedisValue min = cursor ?? (from is { } f ? Ms(f) : default);
            var batch = (await Db.SortedSetRangeByValueAsync(index, min, max, cursor is null ? Exclude.None : Exclude.Start, Order.Ascending, 0, Math.Min(pageSize + 1, 500)))
                .Select(v => v.ToString()).ToList();
            if (batch.Count == 0) return new AuditPage(entries, null);
            var parsed = batch.Select(Parse).ToList();
            var loaded = await Task.WhenAll(parsed.Select(p => p is null
                ? Task.FromResult(RedisValue.Null)
                : Db.HashGetAsync(EntriesKey(p.Value.Place, p.Value.Id), p.Value.EntryId)));
            for (var i = 0; i < batch.Count; i++)
            {
                cursor = batch[i];
                scanned++;
                if (loaded[i].IsNullOrEmpty)
                {
                    // An action refused, retried or cut off, or a session deleted by retention: drop it once no action can write it.
                    if (parsed[i] is not { } p || now - p.At > AbandonedAfter)
                    {
                        await storage.WriteAsync(index, (db, k) => db.SortedSetRemoveAsync(k, batch[i]));
                    }
                }
                else
                {
                    var entry = AuditEntry.Parser.ParseFrom((byte[])loaded[i]!);
                    if (entry.CourseId == courseId && (kinds.Count == 0 || kinds.Contains(entry.Kind))) entries.Add(entry);
                }
                if (entries.Count == pageSize || scanned == scanLimit) break;
            }
        }
        // Whether anything is left after the cursor.
        var more = await Db.SortedSetRangeByValueAsync(index, cursor, max, Exclude.Start, Order.Ascending, 0, 1);
        return new AuditPage(entries, more.Length > 0 ? cursor : null);
    }

    /// <summary>Whether <paramref name="member"/> has the form of an index member (a page token's cursor).</summary>
    public static bool IsMember(string member) => Parse(member) is not null;

    /// <summary>The index member of an entry: <c>atMs|entryId|place|id</c>, the time fixed-width so members sort by time.</summary>
    internal static string Member(AuditEntry entry, AuditPlace place, string placeId) =>
        Ms(entry.At.ToDateTimeOffset()) + "|" + entry.EntryId + "|" + place.ToString().ToLowerInvariant() + "|" + placeId;

    private static (DateTimeOffset At, string EntryId, AuditPlace Place, string Id)? Parse(string member)
    {
        var parts = member.Split('|', 4);
        if (parts.Length != 4 || parts[0].Length != 13 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            || parts[1].Length == 0 || parts[3].Length == 0) return null;
        AuditPlace? place = parts[2] switch { "session" => AuditPlace.Session, "exam" => AuditPlace.Exam, "course" => AuditPlace.Course, _ => null };
        return place is { } p ? (DateTimeOffset.FromUnixTimeMilliseconds(ms), parts[1], p, parts[3]) : null;
    }

    private static string Ms(DateTimeOffset t) => Math.Clamp(t.ToUnixTimeMilliseconds(), 0, 9_999_999_999_999).ToString("D13", CultureInfo.InvariantCulture);
}
