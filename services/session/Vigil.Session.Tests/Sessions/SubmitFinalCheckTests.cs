using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Answers;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Sessions;

/// <summary>SubmitFinalCheck and GetReceipt: the receipt, idempotence across replicas, one event.</summary>
[Collection(SessionCollection.Name)]
public sealed class SubmitFinalCheckTests(SessionFixture f)
{
    [Fact]
    public async Task Final_check_returns_a_receipt_is_idempotent_refuses_a_mismatch_and_closes_the_session()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"));
        await stream.SaveAsync(2, "q2", TestAnswers.Text("Rome"));

        var client = learner.Sessions();
        var mismatch = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await client.SubmitFinalCheckAsync(
            new SubmitFinalCheckRequest { RequestId = "fc-0", SessionId = session.SessionId, LastSaveSequence = 1 }));
        Assert.Equal("SAVE_SEQUENCE_MISMATCH", RpcAssert.PreconditionViolations(mismatch).Single().Type);

        var request = new SubmitFinalCheckRequest { RequestId = "fc-1", SessionId = session.SessionId, LastSaveSequence = 2 };
        var receipt = (await client.SubmitFinalCheckAsync(request)).Receipt;
        Assert.Equal(SessionState.Submitted, receipt.State);
        Assert.Equal(["q1", "q2", "q3"], receipt.Items.Select(i => i.QuestionId));
        Assert.Equal([true, true, false], receipt.Items.Select(i => i.Ticked));
        Assert.Equal(AnswerRules.Digest(TestAnswers.Choice("b")), receipt.Items[0].AnswerDigest);
        Assert.Equal(AnswerRules.Digest(TestAnswers.Text("Rome")), receipt.Items[1].AnswerDigest);
        Assert.Equal(Receipts.Digest(receipt), receipt.ReceiptDigest);

        // A retry (on the other replica) gives the same receipt; nothing is submitted twice.
        var retry = (await learner.Sessions(f.ReplicaB).SubmitFinalCheckAsync(request)).Receipt;
        Assert.Equal(receipt, retry);
        var again = (await learner.Sessions().GetReceiptAsync(new GetReceiptRequest { SessionId = session.SessionId })).Receipt;
        Assert.Equal(receipt, again);

        // After the final check every save is refused.
        var refused = await stream.SaveRejectedAsync(3, "q3", TestAnswers.Number(1));
        Assert.Equal(SaveRejection.SessionClosed, refused.Reason);
        await using var reopened = await learner.OpenStreamAsync(session.SessionId, 2, f.ReplicaB);
        Assert.Equal(SessionState.Submitted, reopened.Opened.State);
        Assert.Equal(SaveRejection.SessionClosed, (await reopened.SaveRejectedAsync(4, "q1", TestAnswers.Choice("a"))).Reason);

        // One event, with the marks: q1 right (2), q2 wrong.
        var events = await f.Events.WaitAsync("SessionSubmitted", session.SessionId);
        var e = Assert.Single(events).Message;
        Assert.Equal(2, e.GetProperty("score").GetDouble());
        Assert.Equal(4, e.GetProperty("maxScore").GetDouble());
        Assert.Equal(2, e.GetProperty("passMark").GetDouble());
        Assert.True(e.GetProperty("idDocumentPhotoAccepted").GetBoolean());
        Assert.Equal(learner.Name, e.GetProperty("learnerName").GetString());
        Assert.Equal(receipt.ReceiptDigest, e.GetProperty("receiptDigest").GetString());

        // Nothing more: the relay publishes a session's outbox in order, so once a decision recorded after every
        // retry has reached the broker, a second submission written by a retry would have reached it before.
        await f.Board(exam.CourseId).RecordDecisionAsync(new RecordDecisionRequest { RequestId = "d1", SessionId = session.SessionId, Outcome = DecisionOutcome.Valid });
        await f.Events.WaitAsync("BoardDecisionRecorded", session.SessionId);
        Assert.Single(f.Events.Of("SessionSubmitted", session.SessionId));
    }
}
