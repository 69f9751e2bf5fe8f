using Grpc.Core;
using Vigil.Contracts.Auth;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// An exam stream outlives its access token, with tokens of the real development provider (<see cref="SignInStack"/>):
/// the stream is authorized when it opens (the gateway's and the session service's bearer check run at the call's
/// start; nothing checks the token per message and the gateway's activity timeout is hours), so saves on it keep being
/// acknowledged after the token expired; a reconnect is a new call and needs a valid token: the expired one gets
/// Unauthenticated TOKEN_EXPIRED, the one renewed with the refresh token opens it where it left off.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class ExamStreamTokenTests(SignInStack signIn) : IDisposable
{
    private readonly Journey _journey = signIn.NewJourney();

    [Fact]
    public async Task An_open_stream_outlives_its_token_while_a_reconnect_needs_the_renewed_one()
    {
        var exam = await _journey.StandardExamAsync();
        var learner = await _journey.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);

        // What a signed-in client holds: an access token that expires seconds from now (the stack tolerates no clock
        // skew) and a refresh token. Lifetimes are checked on the real clock by the gateway and the services.
        var lifetime = TimeSpan.FromSeconds(10);
        var tokens = await signIn.Provider.TokenSetAsync(new TokenSpec(learner.Id) { Roles = [VigilRoles.Learner] }, lifetime);
        var shortLived = learner with { Token = tokens.AccessToken };
        var stream = await shortLived.OpenStreamAsync(session.SessionId);
        Assert.Equal(1, (await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"))).Sequence);

        await Eventually.FailsWithAsync(StatusCode.Unauthenticated, () => shortLived.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId }).ResponseAsync,
            "the short-lived token to be refused on a new call", lifetime + TimeSpan.FromSeconds(30));

        // The stream opened while it was valid goes on: saves and heartbeats are still answered.
        Assert.Equal(2, (await stream.SaveAsync(2, "q2", TestAnswers.Text("Paris"))).Sequence);
        await stream.HeartbeatAsync();
        await stream.DisposeAsync();

        // The connection drops; the reconnect with the expired token is refused, and says why…
        var refused = await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, () => shortLived.OpenStreamAsync(session.SessionId, lastAcked: 2));
        Assert.Equal("TOKEN_EXPIRED", RpcAssert.ErrorReason(refused));

        // …and succeeds with the token renewed by the refresh token, where the old stream left off.
        var renewed = learner with { Token = (await signIn.Provider.RefreshAsync(tokens.RefreshToken)).AccessToken };
        await using var reopened = await renewed.OpenStreamAsync(session.SessionId, lastAcked: 2);
        Assert.Equal(2, reopened.Opened.LastAckedSequence);
        Assert.Equal(3, (await reopened.SaveAsync(3, "q3", TestAnswers.Number(5))).Sequence);
        await reopened.CompleteAsync();

        var receipt = await _journey.SubmitAsync(renewed, session.SessionId, 3);
        Assert.Equal(3, receipt.Items.Count);
    }

    public void Dispose() => _journey.Dispose();
}
