using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Monitoring;

/// <summary>The sweepers: at the deadline the exam's policy decides what becomes of saved answers.</summary>
[Collection(SessionCollection.Name)]
public sealed class DeadlineTests(SessionFixture f)
{
    internal static async Task<GetSessionResponse> WaitForStateAsync(TestLearner learner, string sessionId, Func<SessionState, bool> done)
    {
        for (var i = 0; i < 100; i++)
        {
            var s = await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = sessionId });
            if (done(s.Session.State)) return s;
            await Task.Delay(100);
        }
        throw new TimeoutException("The session did not reach the expected state.");
    }

    internal static string EnumText(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture) : e.GetString()!;

    [Fact]
    public async Task At_the_deadline_saved_answers_are_not_submitted_by_default()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse(), e => e.TimeLimit = Duration.FromTimeSpan(TimeSpan.FromSeconds(2)));
        Assert.Equal(DeadlinePolicy.DiscardUnvalidated, exam.DeadlinePolicy);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        await stream.SaveAsync(1, "q1", ExamSamples.Choice("b"));
        await stream.SaveAsync(2, "q2", ExamSamples.Text("Paris"));

        var expired = await WaitForStateAsync(learner, session.SessionId, s => s != SessionState.InProgress);
        Assert.Equal(SessionState.ExpiredUnsubmitted, expired.Session.State);
        Assert.Equal(2, expired.SavedAnswers.Count);
        Assert.Equal(SaveRejection.SessionClosed, (await stream.SaveAsync(3, "q3", ExamSamples.Number(1))).SaveRejected.Reason);
        var noReceipt = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await learner.Sessions().GetReceiptAsync(new GetReceiptRequest { SessionId = session.SessionId }));
        Assert.Equal("NOT_SUBMITTED", RpcAssert.PreconditionViolations(noReceipt).Single().Type);
        await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await learner.Sessions().SubmitFinalCheckAsync(
            new SubmitFinalCheckRequest { RequestId = "late", SessionId = session.SessionId, LastSaveSequence = 2 }));

        var e = Assert.Single(await f.Events.WaitAsync("SessionExpired", session.SessionId)).Message;
        Assert.Equal(2, e.GetProperty("unvalidatedAnswers").GetInt32());
        Assert.Empty(f.Events.Of("SessionSubmitted", session.SessionId));
    }

    [Fact]
    public async Task At_the_deadline_a_course_may_choose_to_submit_saved_answers()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse(), e =>
        {
            e.TimeLimit = Duration.FromTimeSpan(TimeSpan.FromSeconds(2));
            e.DeadlinePolicy = DeadlinePolicy.SubmitSaved;
        });
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using (var stream = await learner.OpenStreamAsync(session.SessionId))
        {
            await stream.SaveAsync(1, "q1", ExamSamples.Choice("b"));
        }

        var expired = await WaitForStateAsync(learner, session.SessionId, s => s != SessionState.InProgress);
        Assert.Equal(SessionState.ExpiredSubmitted, expired.Session.State);
        var receipt = (await learner.Sessions().GetReceiptAsync(new GetReceiptRequest { SessionId = session.SessionId })).Receipt;
        Assert.Equal(SessionState.ExpiredSubmitted, receipt.State);
        Assert.True(receipt.Items[0].Ticked);

        var e = Assert.Single(await f.Events.WaitAsync("SessionSubmitted", session.SessionId)).Message;
        Assert.Contains(EnumText(e.GetProperty("kind")), new[] { "DeadlinePolicy", "2" });
        Assert.Equal(2, e.GetProperty("score").GetDouble());
        Assert.Empty(f.Events.Of("SessionExpired", session.SessionId));
    }
}
