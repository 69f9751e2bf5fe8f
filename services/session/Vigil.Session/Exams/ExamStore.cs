using Google.Protobuf;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Storage;

namespace Vigil.Session.Exams;

/// <summary>Exams in Redis: one hash per exam (definition, course, version), a set per course, extra time per learner.</summary>
internal sealed class ExamStore(IConnectionMultiplexer redis, RedisKeys keys)
{
    private IDatabase Db => redis.GetDatabase();

    /// <summary>An exam, or null.</summary>
    public async Task<Exam?> GetAsync(string examId)
    {
        if (string.IsNullOrEmpty(examId)) return null;
        var def = await Db.HashGetAsync(keys.Exam(examId), "def");
        return def.IsNullOrEmpty ? null : Exam.Parser.ParseFrom((byte[])def!);
    }

    /// <summary>The exam id a CreateExam request id is bound to (binding a new one when none).</summary>
    public async Task<string> BindCreateRequestAsync(string requestId, string newExamId)
    {
        var key = keys.ExamCreateRequest(requestId);
        if (await Db.StringSetAsync(key, newExamId, TimeSpan.FromDays(7), When.NotExists)) return newExamId;
        return (await Db.StringGetAsync(key)).ToString();
    }

    /// <summary>Stores a new exam (version 1) unless it exists; the course index first.</summary>
    public async Task<bool> CreateAsync(Exam exam)
    {
        await Db.SetAddAsync(keys.CourseExams(exam.CourseId), exam.ExamId);
        return (long)await Db.ScriptEvaluateAsync(Scripts.CreateSession, [keys.Exam(exam.ExamId)],
            ["def", exam.ToByteArray(), "course", exam.CourseId, "version", exam.Version]) == 1;
    }

    /// <summary>Replaces an exam's definition if its version is still <paramref name="expectedVersion"/>.</summary>
    public async Task<string[]> UpdateAsync(Exam exam, long expectedVersion, string requestId)
    {
        var r = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.UpdateExam,
            [keys.Exam(exam.ExamId), keys.ExamRequests(exam.ExamId)],
            [expectedVersion, exam.ToByteArray(), exam.Version, "update:" + requestId]))!;
        return r.Select(x => x.ToString()).ToArray();
    }

    /// <summary>A course's exams.</summary>
    public async Task<List<Exam>> ListAsync(string courseId)
    {
        var ids = await Db.SetMembersAsync(keys.CourseExams(courseId));
        var exams = await Task.WhenAll(ids.Select(id => GetAsync(id.ToString())));
        return exams.Where(e => e is not null && e.CourseId == courseId).Select(e => e!).OrderBy(e => e.Title, StringComparer.Ordinal).ToList();
    }

    /// <summary>Sets a learner's extra time on an exam.</summary>
    public Task SetExtraTimeAsync(string examId, string learnerId, TimeSpan extra) =>
        Db.HashSetAsync(keys.ExamExtraTime(examId), learnerId, (long)extra.TotalMilliseconds);

    /// <summary>A learner's extra time on an exam.</summary>
    public async Task<TimeSpan> GetExtraTimeAsync(string examId, string learnerId)
    {
        var v = await Db.HashGetAsync(keys.ExamExtraTime(examId), learnerId);
        return v.IsNullOrEmpty ? TimeSpan.Zero : TimeSpan.FromMilliseconds((long)v);
    }
}
