using Grpc.Core;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>A token that expires during the exam, through the gateway: new calls refused, the open stream goes on.</summary>
[Collection(StackCollection.Name)]
public sealed class TokenExpiryTests(VigilStack stack) : IDisposable
{
    private readonly Flow _flow = new(stack);

    [Fact]
    public async Task A_token_expiring_during_the_exam_does_not_cut_the_open_stream_off()
    {
        var (learnerId, longToken) = await _flow.RegisteredLearnerAsync();
        var exam = await _flow.ExamAsync(Flow.Id("course"));
        await _flow.VerifyAsync(longToken, exam.ExamId);
        var session = (await _flow.Sessions(longToken).StartSessionAsync(new StartSessionRequest { RequestId = Flow.RequestId(), ExamId = exam.ExamId })).Session;

        // A token that expires seconds after the stream opened (the stack tolerates no clock skew).
        var lifetime = TimeSpan.FromSeconds(12);
        var expiresAt = DateTime.UtcNow + lifetime;
        var shortToken = TestTokens.Custom(learnerId, [Vigil.ServiceDefaults.Auth.VigilRoles.Learner], lifetime: lifetime);
        using var call = _flow.Sessions(shortToken).StreamExam();
        await call.RequestStream.WriteAsync(new StreamExamRequest { Open = new OpenStream { SessionId = session.SessionId } });
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(StreamExamResponse.MessageOneofCase.Opened, call.ResponseStream.Current.MessageCase);
        await call.RequestStream.WriteAsync(new StreamExamRequest { Save = new AnswerSave { Sequence = 1, QuestionId = "q1", Answer = new Answer { Choice = new ChoiceAnswer { OptionIds = { "half" } } } } });
        await Flow.AckAsync(call, 1);

        var wait = expiresAt - DateTime.UtcNow + TimeSpan.FromSeconds(1.5);
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
        // The token has expired: a new call with it is refused at the gateway…
        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, () =>
            _flow.Sessions(shortToken).GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId }).ResponseAsync);
        // …but the stream opened while it was valid goes on: saves are still acknowledged.
        await call.RequestStream.WriteAsync(new StreamExamRequest { Save = new AnswerSave { Sequence = 2, QuestionId = "q2", Answer = new Answer { Number = 6 } } });
        Assert.Equal(2, await Flow.AckAsync(call, 2));
        await call.RequestStream.CompleteAsync();

        var receipt = (await _flow.Sessions(longToken).SubmitFinalCheckAsync(new SubmitFinalCheckRequest { RequestId = Flow.RequestId(), SessionId = session.SessionId, LastSaveSequence = 2 })).Receipt;
        Assert.All(receipt.Items, i => Assert.True(i.Ticked));
    }

    public void Dispose() => _flow.Dispose();
}
