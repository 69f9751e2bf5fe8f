using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>A token that expires during the exam, through the gateway: new calls refused, the open stream goes on.</summary>
[Collection(StackCollection.Name)]
public sealed class TokenExpiryTests(EndToEndStack stack) : IDisposable
{
    private readonly Journey _journey = stack.NewJourney();

    [Fact]
    public async Task A_token_expiring_during_the_exam_does_not_cut_the_open_stream_off()
    {
        var exam = await _journey.StandardExamAsync();
        var learner = await _journey.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);

        // A token that expires seconds after the stream opened (the stack tolerates no clock skew). Token lifetimes
        // are checked on the real clock (by the gateway and the services): the test waits for the refusal itself.
        var lifetime = TimeSpan.FromSeconds(12);
        var shortLived = learner with { Token = TestTokens.Custom(learner.Id, [Vigil.Contracts.Auth.VigilRoles.Learner], lifetime: lifetime) };
        await using var stream = await shortLived.OpenStreamAsync(session.SessionId);
        await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"));

        // The token expires: a new call with it is refused at the gateway…
        await Eventually.FailsWithAsync(StatusCode.Unauthenticated, () => shortLived.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId }).ResponseAsync,
            "the short-lived token to be refused on a new call", lifetime + TimeSpan.FromSeconds(30));
        // …but the stream opened while it was valid goes on: saves are still acknowledged.
        Assert.Equal(2, (await stream.SaveAsync(2, "q2", TestAnswers.Text("Paris"))).Sequence);
        await stream.CompleteAsync();

        var receipt = await _journey.SubmitAsync(learner, session.SessionId, 2);
        Assert.Equal([true, true, false], receipt.Items.Select(i => i.Ticked));
    }

    public void Dispose() => _journey.Dispose();
}
