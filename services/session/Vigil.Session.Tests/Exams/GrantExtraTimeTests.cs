using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;

namespace Vigil.Session.Tests.Exams;

/// <summary>GrantExtraTime: granted before the start, and moving a running session's deadline.</summary>
[Collection(SessionCollection.Name)]
public sealed class GrantExtraTimeTests(SessionFixture f)
{
    [Fact]
    public async Task Extra_time_extends_the_deadline()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        await f.Exams(course).GrantExtraTimeAsync(new GrantExtraTimeRequest
        {
            RequestId = "x", ExamId = exam.ExamId, LearnerId = learner.Id, ExtraTime = Duration.FromTimeSpan(TimeSpan.FromMinutes(10)), Reason = "accommodation",
        });
        var session = await learner.StartAsync(exam.ExamId);
        Assert.Equal(TimeSpan.FromMinutes(40), session.Deadline.ToDateTimeOffset() - session.StartedAt.ToDateTimeOffset());

        // A grant during the session replaces the earlier one and moves the running session's deadline.
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        Assert.True((await stream.HeartbeatAsync()).TimeLeft.ToTimeSpan() <= TimeSpan.FromMinutes(40));
        await f.Exams(course).GrantExtraTimeAsync(new GrantExtraTimeRequest
        {
            RequestId = "y", ExamId = exam.ExamId, LearnerId = learner.Id, ExtraTime = Duration.FromTimeSpan(TimeSpan.FromMinutes(20)), Reason = "technical delay",
        });
        Assert.True((await stream.HeartbeatAsync()).TimeLeft.ToTimeSpan() > TimeSpan.FromMinutes(49));
        var read = await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId });
        Assert.Equal(TimeSpan.FromMinutes(50), read.Session.Deadline.ToDateTimeOffset() - read.Session.StartedAt.ToDateTimeOffset());
    }
}
