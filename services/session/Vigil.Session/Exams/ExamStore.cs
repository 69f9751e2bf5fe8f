using System.Globalization;
using Google.Protobuf;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Audit;

namespace Vigil.Session.Exams;

/// <summary>What an exam update did.</summary>
internal enum ExamUpdateStatus
{
    /// <summary>The definition was replaced.</summary>
    Updated,
    /// <summary>This request already replaced it (<see cref="ExamUpdate.Version"/>).</summary>
    Duplicate,
    /// <summary>The exam is at another version (<see cref="ExamUpdate.Version"/>).</summary>
    VersionMismatch,
    /// <summary>No such exam.</summary>
    Missing,
}

/// <summary>What an exam update did, with the version it names.</summary>
internal sealed record ExamUpdate(ExamUpdateStatus Status, long Version = 0);

/// <summary>
/// Exams in Redis: one hash per exam (definition, course, version) with its extra times and request ids under the
/// exam's hash tag, a set per course, the CreateExam request ids. Keys on the service's scheme (<see cref="RedisKeyspace"/>).
/// </summary>
internal sealed class ExamStore(RedisStorage storage)
{
    private static readonly RedisScript CreateScript = RedisScript.Load<ExamStore>("CreateExam");
    private static readonly RedisScript UpdateScript = RedisScript.Load<ExamStore>("UpdateExam");
    private static readonly RedisScript SetExtraTimeScript = RedisScript.Load<ExamStore>("SetExtraTime");
    private static readonly RedisScript EraseLearnerGrantsScript = RedisScript.Load<ExamStore>("EraseLearnerGrants");
    private static readonly RedisScript SetAllowanceScript = RedisScript.Load<ExamStore>("SetAllowance");

    private IDatabase Db => storage.Database;

    /// <summary>Hash: the exam definition (def, protobuf), its course and version.</summary>
    private RedisKey ExamKey(string examId) => storage.Keys.Record("exam", examId).Key;

    /// <summary>Hash: learner id → extra time in milliseconds.</summary>
    private RedisKey ExtraTimeKey(string examId) => storage.Keys.Record("exam", examId).Part("extra");

    /// <summary>Hash: the audit entries of the exam's actions (entry id → AuditEntry; <see cref="AuditTrail"/>).</summary>
    internal RedisKey AuditKey(string examId) => storage.Keys.Record("exam", examId).Part("audit");

    /// <summary>Hash: learner id → their allowance (protobuf Allowance).</summary>
    private RedisKey AllowancesKey(string examId) => storage.Keys.Record("exam", examId).Part("allowances");

    /// <summary>
    /// Set: the exams on which a learner was granted extra time or an allowance (their entries in those exams' hashes
    /// name the learner, and an allowance's reason may be about their health): what an erasure must reach. Written
    /// before the grant (another slot), as the session indexes are; a stale member only costs the erasure a look.
    /// </summary>
    private RedisKey LearnerGrantsKey(string learnerId) => storage.Keys.Record("learner", learnerId).Part("exam-grants");

    /// <summary>Hash: UpdateExam request key → the version it wrote.</summary>
    private RedisKey RequestsKey(string examId) => storage.Keys.Record("exam", examId).Part("requests");

    /// <summary>String: a CreateExam request key → the exam id it created (7 days).</summary>
    private RedisKey CreateRequestKey(string requestKey) => storage.Keys.Record("exam-request", requestKey).Key;

    /// <summary>Set: a course's exam ids.</summary>
    private RedisKey CourseExamsKey(string courseId) => storage.Keys.Record("course", courseId).Part("exams");

    /// <summary>An exam, or null.</summary>
    public async Task<Exam?> GetAsync(string examId)
    {
        if (string.IsNullOrEmpty(examId)) return null;
        var def = await Db.HashGetAsync(ExamKey(examId), "def");
        return def.IsNullOrEmpty ? null : Exam.Parser.ParseFrom((byte[])def!);
    }

    /// <summary>The exam id a CreateExam request is bound to (binding <paramref name="newExamId"/> when none).</summary>
    public async Task<string> BindCreateRequestAsync(string requestKey, string newExamId)
    {
        var key = CreateRequestKey(requestKey);
        if (await storage.WriteAsync(key, (db, k) => db.StringSetAsync(k, newExamId, TimeSpan.FromDays(7), When.NotExists))) return newExamId;
        return (await Db.StringGetAsync(key)).ToString();
    }

    /// <summary>Stores a new exam (version 1) unless it exists, with its audit entry; the course index first.</summary>
    public async Task<bool> CreateAsync(Exam exam, AuditWrite? audit = null)
    {
        await storage.WriteAsync(CourseExamsKey(exam.CourseId), (db, k) => db.SetAddAsync(k, exam.ExamId));
        var key = ExamKey(exam.ExamId);
        return (long)await storage.WriteAsync(key, CreateScript,
            new
            {
                exam = key,
                definition = exam.ToByteArray(),
                courseId = exam.CourseId,
                version = exam.Version,
                audit = audit?.Key ?? AuditKey(exam.ExamId),
                auditId = audit?.EntryId ?? string.Empty,
                auditEntry = audit?.Entry ?? [],
            }) == 1;
    }

    /// <summary>Replaces an exam's definition if its version is still <paramref name="expectedVersion"/>, with its audit entry.</summary>
    public async Task<ExamUpdate> UpdateAsync(Exam exam, long expectedVersion, string requestKey, AuditWrite? audit = null)
    {
        var key = ExamKey(exam.ExamId);
        var r = (RedisResult[])(await storage.WriteAsync(key, UpdateScript, new
        {
            exam = key,
            requests = RequestsKey(exam.ExamId),
            requestKey = "update:" + requestKey,
            expectedVersion,
            definition = exam.ToByteArray(),
            version = exam.Version,
            audit = audit?.Key ?? AuditKey(exam.ExamId),
            auditId = audit?.EntryId ?? string.Empty,
            auditEntry = audit?.Entry ?? [],
        }))!;
        long Version() => long.Parse(r[1].ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture);
        return r[0].ToString() switch
        {
            "ok" => new ExamUpdate(ExamUpdateStatus.Updated, exam.Version),
            "dup" => new ExamUpdate(ExamUpdateStatus.Duplicate, Version()),
            "version" => new ExamUpdate(ExamUpdateStatus.VersionMismatch, Version()),
            "missing" => new ExamUpdate(ExamUpdateStatus.Missing),
            var other => throw new InvalidOperationException($"The UpdateExam script replied '{other}', which this version does not know."),
        };
    }

    /// <summary>A course's exams, by title.</summary>
    public async Task<List<Exam>> ListAsync(string courseId)
    {
        var ids = await Db.SetMembersAsync(CourseExamsKey(courseId));
        var exams = await Task.WhenAll(ids.Select(id => GetAsync(id.ToString())));
        return exams.Where(e => e is not null && e.CourseId == courseId).Select(e => e!).OrderBy(e => e.Title, StringComparer.Ordinal).ToList();
    }

    /// <summary>Sets a learner's extra time on an exam, with the grant's audit entry in the same step.</summary>
    public async Task SetExtraTimeAsync(string examId, string learnerId, TimeSpan extra, AuditWrite? audit = null)
    {
        var extraKey = ExtraTimeKey(examId);
        await IndexGrantAsync(learnerId, examId);
        await storage.WriteAsync(extraKey, SetExtraTimeScript, new
        {
            extra = extraKey,
            learnerId,
            extraMs = (long)extra.TotalMilliseconds,
            audit = audit?.Key ?? AuditKey(examId),
            auditId = audit?.EntryId ?? string.Empty,
            auditEntry = audit?.Entry ?? [],
        });
    }

    /// <summary>A learner's extra time on an exam.</summary>
    public async Task<TimeSpan> GetExtraTimeAsync(string examId, string learnerId)
    {
        var v = await Db.HashGetAsync(ExtraTimeKey(examId), learnerId);
        return v.IsNullOrEmpty ? TimeSpan.Zero : TimeSpan.FromMilliseconds((long)v);
    }

    /// <summary>
    /// Sets a learner's allowance (replacing any earlier one) with its audit entry, once per <paramref name="requestKey"/>;
    /// false when this request already set one.
    /// </summary>
    public async Task<bool> SetAllowanceAsync(string examId, Allowance allowance, string requestKey, AuditWrite? audit = null)
    {
        var allowances = AllowancesKey(examId);
        await IndexGrantAsync(allowance.LearnerId, examId);
        return (long)await storage.WriteAsync(allowances, SetAllowanceScript, new
        {
            allowances,
            requests = RequestsKey(examId),
            requestKey = "allowance:" + requestKey,
            learnerId = allowance.LearnerId,
            allowance = allowance.ToByteArray(),
            audit = audit?.Key ?? AuditKey(examId),
            auditId = audit?.EntryId ?? string.Empty,
            auditEntry = audit?.Entry ?? [],
        }) == 1;
    }

    /// <summary>The session a ResetAttempt request is bound to (binding <paramref name="sessionId"/> when none).</summary>
    public async Task<string> BindResetRequestAsync(string examId, string requestKey, string sessionId)
    {
        var requests = RequestsKey(examId);
        if (await storage.WriteAsync(requests, (db, k) => db.HashSetAsync(k, "reset:" + requestKey, sessionId, When.NotExists))) return sessionId;
        return (await Db.HashGetAsync(requests, "reset:" + requestKey)).ToString();
    }

    /// <summary>The session a ResetAttempt request is bound to, or null.</summary>
    public async Task<string?> ResetRequestAsync(string examId, string requestKey)
    {
        var v = await Db.HashGetAsync(RequestsKey(examId), "reset:" + requestKey);
        return v.IsNullOrEmpty ? null : v.ToString();
    }

    private Task IndexGrantAsync(string learnerId, string examId)
    {
        var grants = LearnerGrantsKey(learnerId);
        return storage.WriteAsync(grants, (db, k) => db.SetAddAsync(k, examId));
    }

    /// <summary>
    /// Erasure: removes the learner's extra time and allowances from every exam that granted them any (each exam's
    /// entries in one step, in its slot), then the index; returns how many exams held some. Idempotent: a crash
    /// part-way leaves the index, and the next run finds the rest.
    /// </summary>
    public async Task<int> EraseLearnerGrantsAsync(string learnerId)
    {
        var grants = LearnerGrantsKey(learnerId);
        var erased = 0;
        foreach (var examId in (await Db.SetMembersAsync(grants)).Select(v => v.ToString()))
        {
            var extra = ExtraTimeKey(examId);
            var allowances = AllowancesKey(examId);
            if ((long)await storage.WriteAsync(extra, EraseLearnerGrantsScript, new { extra, allowances, learnerId }) > 0) erased++;
            await storage.WriteAsync(grants, (db, k) => db.SetRemoveAsync(k, examId));
        }
        return erased;
    }

    /// <summary>A learner's allowance on an exam, or null.</summary>
    public async Task<Allowance?> GetAllowanceAsync(string examId, string learnerId)
    {
        var v = await Db.HashGetAsync(AllowancesKey(examId), learnerId);
        return v.IsNullOrEmpty ? null : Allowance.Parser.ParseFrom((byte[])v!);
    }
}
