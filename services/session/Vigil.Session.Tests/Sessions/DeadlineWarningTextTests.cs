using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Sessions;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Sessions;

/// <summary>StreamExam's warning near the deadline says how much time is left, never more than there is.</summary>
[Collection(SessionCollection.Name)]
public sealed class DeadlineWarningTextTests(SessionFixture f)
{
    [Theory]
    [InlineData(0, "less than a minute")]
    [InlineData(20, "less than a minute")]
    [InlineData(59.9, "less than a minute")]
    [InlineData(60, "1 min")]
    [InlineData(119, "1 min")]
    [InlineData(280, "4 min")]
    [InlineData(300, "5 min")]
    public void The_time_left_is_rounded_down_and_under_a_minute_is_less_than_a_minute(double seconds, string expected) =>
        Assert.Equal(expected, ExamStream.TimeLeftText(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public async Task With_seconds_left_the_warning_says_less_than_a_minute_not_1_min()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse(), e => e.TimeLimit = Duration.FromTimeSpan(TimeSpan.FromSeconds(40)));
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"));
        await stream.HeartbeatAsync();
        var warning = Assert.Single(stream.Warnings);
        Assert.Equal(WarningCode.UnvalidatedAnswers, warning.Code);
        Assert.StartsWith("The exam ends in less than a minute ", warning.Message, StringComparison.Ordinal);
    }
}
