using Google.Protobuf;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Storage;

namespace Vigil.Session.Tests.Exams;

public sealed class ExamSnapshotsTests
{
    private static byte[] Snapshot(string title) => new Exam
    {
        ExamId = "exam-snapshots",
        CourseId = "course",
        Title = title,
        Questions = { new Question { QuestionId = "q1", Kind = QuestionKind.SingleChoice, Prompt = "Which?", Points = 1 } },
    }.ToByteArray();

    [Fact]
    public void Sessions_of_the_same_snapshot_share_one_parsed_exam()
    {
        var first = ExamSnapshots.Parse(Snapshot("Same title"));
        var second = ExamSnapshots.Parse(Snapshot("Same title"));
        Assert.Same(first, second);
        Assert.Equal("Same title", second.Title);
    }

    [Fact]
    public void An_exam_changed_after_some_sessions_started_is_a_second_snapshot()
    {
        var before = ExamSnapshots.Parse(Snapshot("Before the change"));
        var after = ExamSnapshots.Parse(Snapshot("After the change"));
        Assert.NotSame(before, after);
        Assert.Equal("Before the change", before.Title);
        Assert.Equal("After the change", after.Title);
    }

    [Fact]
    public void The_cache_stays_bounded()
    {
        for (var i = 0; i < ExamSnapshots.Capacity + 10; i++) ExamSnapshots.Parse(Snapshot("Exam " + i));
        Assert.InRange(ExamSnapshots.Count, 1, ExamSnapshots.Capacity);
    }
}
