using Vigil.Contracts.Session.V1;
using Vigil.Session.Exams;
using Vigil.Testing;

namespace Vigil.Session.Tests.Storage;

/// <summary>Every branch of the exam scripts and the exam indexes, against the real Redis.</summary>
public sealed class ExamStoreTests(StoreRedis redis) : IClassFixture<StoreRedis>
{
    private ExamStore New() => new(redis.NewStorage("exam-store"));

    private static Exam NewExam(string courseId, string title) =>
        new() { ExamId = "exam-" + Guid.NewGuid().ToString("N")[..8], CourseId = courseId, Title = title, Version = 1 };

    [Fact]
    public async Task An_exam_is_created_once_and_listed_under_its_course()
    {
        var store = New();
        var b = NewExam("course-1", "B");
        var a = NewExam("course-1", "A");
        Assert.True(await store.CreateAsync(b));
        Assert.True(await store.CreateAsync(a));
        Assert.False(await store.CreateAsync(b.Clone()));
        Assert.Equal(b, await store.GetAsync(b.ExamId));
        Assert.Null(await store.GetAsync("exam-none"));
        Assert.Null(await store.GetAsync(string.Empty));
        Assert.Equal(["A", "B"], (await store.ListAsync("course-1")).Select(e => e.Title));
        Assert.Empty(await store.ListAsync("course-2"));
    }

    [Fact]
    public async Task An_update_needs_the_current_version_and_a_retry_finds_its_own()
    {
        var store = New();
        var exam = NewExam("course-1", "First");
        await store.CreateAsync(exam);
        var second = exam.Clone();
        second.Title = "Second";
        second.Version = 2;

        Assert.Equal(new ExamUpdate(ExamUpdateStatus.Updated, 2), await store.UpdateAsync(second, 1, "staff:r1"));
        Assert.Equal(new ExamUpdate(ExamUpdateStatus.Duplicate, 2), await store.UpdateAsync(second, 1, "staff:r1"));
        Assert.Equal(new ExamUpdate(ExamUpdateStatus.VersionMismatch, 2), await store.UpdateAsync(second, 1, "staff:r2"));
        Assert.Equal("Second", (await store.GetAsync(exam.ExamId))!.Title);

        var missing = NewExam("course-1", "Missing");
        Assert.Equal(new ExamUpdate(ExamUpdateStatus.Missing), await store.UpdateAsync(missing, 1, "staff:r3"));
    }

    [Fact]
    public async Task A_create_request_binds_one_exam_id_and_extra_time_is_per_learner()
    {
        var store = New();
        Assert.Equal("exam-a", await store.BindCreateRequestAsync("staff:r1", "exam-a"));
        Assert.Equal("exam-a", await store.BindCreateRequestAsync("staff:r1", "exam-b"));

        Assert.Equal(TimeSpan.Zero, await store.GetExtraTimeAsync("exam-a", "learner-1"));
        await store.SetExtraTimeAsync("exam-a", "learner-1", TimeSpan.FromMinutes(20));
        Assert.Equal(TimeSpan.FromMinutes(20), await store.GetExtraTimeAsync("exam-a", "learner-1"));
        Assert.Equal(TimeSpan.Zero, await store.GetExtraTimeAsync("exam-a", "learner-2"));
    }

    [Fact]
    public async Task An_erasure_removes_a_learners_extra_time_and_allowances_from_every_exam_and_nobody_elses()
    {
        var store = New();
        var one = NewExam("course-1", "One");
        var two = NewExam("course-1", "Two");
        await store.CreateAsync(one);
        await store.CreateAsync(two);
        var learner = "learner-" + Guid.NewGuid().ToString("N")[..8];
        var other = "learner-" + Guid.NewGuid().ToString("N")[..8];
        await store.SetExtraTimeAsync(one.ExamId, learner, TimeSpan.FromMinutes(10));
        Assert.True(await store.SetAllowanceAsync(two.ExamId, new Allowance { LearnerId = learner, TimeMultiplier = 1.5, Reason = "hearing aid" }, "staff:a1"));
        await store.SetExtraTimeAsync(two.ExamId, other, TimeSpan.FromMinutes(5));
        Assert.True(await store.SetAllowanceAsync(one.ExamId, new Allowance { LearnerId = other, TimeMultiplier = 2, Reason = "dyslexia" }, "staff:a2"));

        Assert.Equal(2, await store.EraseLearnerGrantsAsync(learner));

        Assert.Equal(TimeSpan.Zero, await store.GetExtraTimeAsync(one.ExamId, learner));
        Assert.Null(await store.GetAllowanceAsync(two.ExamId, learner));
        Assert.Equal(TimeSpan.FromMinutes(5), await store.GetExtraTimeAsync(two.ExamId, other));
        Assert.Equal("dyslexia", (await store.GetAllowanceAsync(one.ExamId, other))!.Reason);
        // Nothing left that names the learner: the index went last; a second run finds nothing.
        Assert.Empty(redis.Connection.GetServers().SelectMany(server => server.Keys(pattern: $"*{learner}*")));
        Assert.Equal(0, await store.EraseLearnerGrantsAsync(learner));
    }
}
