using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Exams;

/// <summary>CreateExam, UpdateExam and ListExams: the course's staff only, field violations, versions.</summary>
[Collection(SessionCollection.Name)]
public sealed class CreateAndUpdateExamTests(SessionFixture f)
{
    [Fact]
    public async Task Exams_are_for_their_course_staff_and_bad_definitions_get_field_violations()
    {
        var course = SessionFixture.NewCourse();
        var exam = ExamBuilder.Standard(course, f.Clock.GetUtcNow());
        exam.Title = "";
        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await f.Exams(course).CreateExamAsync(new CreateExamRequest { RequestId = "r1", Exam = exam }));
        Assert.Contains(RpcAssert.FieldViolations(ex), v => v.Field == "exam.title");

        var other = f.Journey.Exams(TestTokens.Staff("staff-2", "another-course"));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await other.CreateExamAsync(new CreateExamRequest { RequestId = "r2", Exam = ExamBuilder.Standard(course, f.Clock.GetUtcNow()) }));

        var created = await f.CreateExamAsync(course);
        Assert.Equal(1, created.Version);
        var update = created.Clone();
        update.Title = "Renamed";
        var updated = await f.Exams(course).UpdateExamAsync(new UpdateExamRequest { RequestId = "u1", Exam = update, ExpectedVersion = 1 });
        Assert.Equal(2, updated.Exam.Version);
        await RpcAssert.ThrowsAsync(StatusCode.Aborted, async () => await f.Exams(course).UpdateExamAsync(new UpdateExamRequest { RequestId = "u2", Exam = update, ExpectedVersion = 1 }));
        var listed = await f.Exams(course).ListExamsAsync(new ListExamsRequest { CourseId = course });
        Assert.Equal("Renamed", Assert.Single(listed.Exams).Title);
    }
}
