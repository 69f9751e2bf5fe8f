using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Monitoring;

/// <summary>The sweepers: at the deadline (on the fake clock) the exam's policy decides what becomes of saved answers.</summary>
[Collection(SessionCollection.Name)]
public sealed class DeadlineTests(SessionFixture f)
{
    [Fact]
    public async Task At_the_deadline_saved_answers_are_not_submitted_by_default()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        Assert.Equal(DeadlinePolicy.DiscardUnvalidated, exam.DeadlinePolicy);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"));
        await stream.SaveAsync(2, "q2", TestAnswers.Text("Paris"));

        // A second before the deadline nothing happens; past it, the sweepers expire the session.
        f.Advance(exam.TimeLimit.ToTimeSpan() - TimeSpan.FromSeconds(1));
        await f.SweepNowAsync();
        Assert.Equal(SessionState.InProgress, (await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId })).Session.State);
        f.Advance(TimeSpan.FromSeconds(1) + SessionFixture.SweepInterval);
        var expired = await f.WaitForStateAsync(learner, session.SessionId, s => s != SessionState.InProgress);
        Assert.Equal(SessionState.ExpiredUnsubmitted, expired.Session.State);
        Assert.Equal(2, expired.SavedAnswers.Count);
        Assert.Equal(SaveRejection.SessionClosed, (await stream.SaveRejectedAsync(3, "q3", TestAnswers.Number(1))).Reason);
        var noReceipt = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await learner.Sessions().GetReceiptAsync(new GetReceiptRequest { SessionId = session.SessionId }));
        Assert.Equal("NOT_SUBMITTED", RpcAssert.PreconditionViolations(noReceipt).Single().Type);
        await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await learner.Sessions().SubmitFinalCheckAsync(
            new SubmitFinalCheckRequest { RequestId = "late", SessionId = session.SessionId, LastSaveSequence = 2 }));

        var e = Assert.Single(await f.Events.WaitAsync("SessionExpired", session.SessionId)).Message;
        Assert.Equal(2, e.GetProperty("unvalidatedAnswers").GetInt32());
        // The expiry and its event were one step: no submission was written, so none is published.
        Assert.Empty(f.Events.Of("SessionSubmitted", session.SessionId));
    }

    [Fact]
    public async Task At_the_deadline_a_course_may_choose_to_submit_saved_answers()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse(), e => e.DeadlinePolicy = DeadlinePolicy.SubmitSaved);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using (var stream = await learner.OpenStreamAsync(session.SessionId))
        {
            await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"));
        }

        f.Advance(exam.TimeLimit.ToTimeSpan() + SessionFixture.SweepInterval);
        var expired = await f.WaitForStateAsync(learner, session.SessionId, s => s != SessionState.InProgress);
        Assert.Equal(SessionState.ExpiredSubmitted, expired.Session.State);
        var receipt = (await learner.Sessions().GetReceiptAsync(new GetReceiptRequest { SessionId = session.SessionId })).Receipt;
        Assert.Equal(SessionState.ExpiredSubmitted, receipt.State);
        Assert.True(receipt.Items[0].Ticked);

        var e = Assert.Single(await f.Events.WaitAsync("SessionSubmitted", session.SessionId)).Message;
        Assert.Contains(SessionFixture.EnumText(e.GetProperty("kind")), new[] { "DeadlinePolicy", "2" });
        Assert.Equal(2, e.GetProperty("score").GetDouble());
        Assert.Empty(f.Events.Of("SessionExpired", session.SessionId));
    }
}
