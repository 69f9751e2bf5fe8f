using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Sessions;

/// <summary>
/// The contract held strictly by the real service: an enum number the contract does not define is InvalidArgument
/// naming the field (in a unary request and on the exam stream), save sequences increase across the whole session,
/// absurd sequences are refused, and a second OpenStream gets an answer.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class StrictContractTests(SessionFixture f)
{
    [Fact]
    public async Task A_question_kind_the_contract_does_not_define_is_refused_naming_the_field_and_nothing_is_stored()
    {
        var course = SessionFixture.NewCourse();
        var exam = ExamBuilder.Standard(course, f.Clock.GetUtcNow());
        exam.Questions[1].Kind = (QuestionKind)99;
        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await f.Exams(course).CreateExamAsync(
            new CreateExamRequest { RequestId = Journey.RequestId(), Exam = exam }));
        var violation = Assert.Single(RpcAssert.FieldViolations(ex));
        Assert.Equal("exam.questions[1].kind", violation.Field);
        Assert.Contains("99", violation.Description, StringComparison.Ordinal);
        Assert.Empty((await f.Exams(course).ListExamsAsync(new ListExamsRequest { CourseId = course })).Exams);
    }

    [Fact]
    public async Task An_unknown_audio_output_on_a_heartbeat_ends_the_stream_with_InvalidArgument_naming_the_field()
    {
        var (learner, session) = await StartedAsync();
        await using var stream = await learner.OpenStreamAsync(session);

        await stream.SendHeartbeatAsync(audio: (AudioOutput)7);
        var ended = await stream.Ended.WaitAsync(ExamStreamClient.DefaultTimeout);
        Assert.Equal(StatusCode.InvalidArgument, ended.StatusCode);
        Assert.StartsWith("heartbeat.audio_output: 7 is not a value of vigil.session.v1.AudioOutput", ended.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sequence_reused_for_another_question_is_refused_not_stored()
    {
        var (learner, session) = await StartedAsync();
        await using var stream = await learner.OpenStreamAsync(session);

        await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"));
        await stream.SaveAsync(2, "q2", TestAnswers.Text("Paris"));
        var reused = await stream.SaveRejectedAsync(1, "q3", TestAnswers.Number(42));
        Assert.Equal(SaveRejection.InvalidSequence, reused.Reason);
        Assert.Contains("already used", reused.Message, StringComparison.Ordinal);
        // A resend of a save still stands (duplicate), and the next sequence stores.
        Assert.Equal(SaveOutcome.Duplicate, (await stream.SaveAsync(2, "q2", TestAnswers.Text("Paris"))).Outcome);
        Assert.Equal(SaveOutcome.Stored, (await stream.SaveAsync(3, "q3", TestAnswers.Number(42))).Outcome);

        var read = await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session });
        Assert.Equal([("q1", 1L), ("q2", 2L), ("q3", 3L)], read.SavedAnswers.Select(a => (a.QuestionId, a.Sequence)));
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(-1L)]
    [InlineData(0L)]
    [InlineData(9_007_199_254_740_992L)]
    [InlineData(1_000_000L)]
    public async Task An_absurd_sequence_is_refused_and_changes_nothing(long sequence)
    {
        var (learner, session) = await StartedAsync();
        await using var stream = await learner.OpenStreamAsync(session);

        var refused = await stream.SaveRejectedAsync(sequence, "q1", TestAnswers.Choice("b"));
        Assert.Equal(SaveRejection.InvalidSequence, refused.Reason);
        Assert.Equal(SaveOutcome.Stored, (await stream.SaveAsync(1, "q1", TestAnswers.Choice("a"))).Outcome);
        var read = await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session });
        Assert.Equal(1, read.Session.LastAckedSequence);
    }

    [Fact]
    public async Task A_second_OpenStream_on_an_open_stream_gets_InvalidArgument_not_silence()
    {
        var (learner, session) = await StartedAsync();
        await using var stream = await learner.OpenStreamAsync(session);

        await stream.SendAsync(new StreamExamRequest { Open = new OpenStream { SessionId = session } });
        var ex = await Assert.ThrowsAsync<RpcException>(() => stream.NextAsync());
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("open:", ex.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>A verified learner's started session of a new standard exam.</summary>
    private async Task<(TestLearner Learner, string SessionId)> StartedAsync()
    {
        var started = await f.Journey.StartedAsync(await f.CreateExamAsync(SessionFixture.NewCourse()));
        return (started.Learner, started.SessionId);
    }
}
