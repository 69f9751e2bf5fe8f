using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>What the journey refuses through the gateway: an alias email, a start without an ID-document photo or without a registered address.</summary>
[Collection(StackCollection.Name)]
public sealed class JourneyRefusalTests(EndToEndStack stack) : IDisposable
{
    private readonly Journey _journey = stack.NewJourney();

    [Fact]
    public async Task An_alias_email_is_refused_with_the_address_to_use()
    {
        var id = Journey.Id("learner");
        var token = TestTokens.Learner(id);
        var alias = $"{id}+mooc@example.org";
        var check = await _journey.Identity(token).CheckEmailAsync(new CheckEmailRequest { Email = alias });
        Assert.Equal(EmailVerdict.Refused, check.Verdict);
        Assert.Equal(EmailRefusalReason.Alias, check.Reason);
        Assert.Equal($"{id}@example.org", check.SuggestedEmail);

        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, () =>
            _journey.Identity(token).RegisterLearnerAsync(new RegisterLearnerRequest { RequestId = Journey.RequestId(), Email = alias, DisplayName = "Alias" }).ResponseAsync);
        Assert.Contains(RpcAssert.FieldViolations(ex), v => v.Field == "email");
    }

    [Fact]
    public async Task An_exam_started_without_an_ID_photo_is_refused()
    {
        var learner = await _journey.RegisteredLearnerAsync();
        var token = learner.Token;
        var exam = await _journey.StandardExamAsync();
        await _journey.CompleteChecksAsync(learner, exam.ExamId);

        var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () =>
            _journey.Sessions(token).StartSessionAsync(new StartSessionRequest { RequestId = Journey.RequestId(), ExamId = exam.ExamId }).ResponseAsync);
        Assert.NotEmpty(ex.Status.Detail);

        var status = (await _journey.Identity(token).GetVerificationStatusAsync(new GetVerificationStatusRequest { ExamId = exam.ExamId })).Status;
        Assert.False(status.MayStartExam);
        Assert.Equal(VerificationStep.IdDocumentPhoto, status.NextStep);
    }

    [Fact]
    public async Task A_learner_whose_alias_registration_was_refused_cannot_start_even_fully_verified()
    {
        var id = Journey.Id("learner");
        var learner = new TestLearner(id, "Alias", TestTokens.Learner(id, "Alias"), _journey);
        await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, () => learner.Identity().RegisterLearnerAsync(
            new RegisterLearnerRequest { RequestId = Journey.RequestId(), Email = $"{id}+mooc@example.org", DisplayName = "Alias" }).ResponseAsync);
        var exam = await _journey.StandardExamAsync();
        await _journey.VerifyAsync(learner, exam.ExamId);

        var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () =>
            learner.Sessions().StartSessionAsync(new StartSessionRequest { RequestId = Journey.RequestId(), ExamId = exam.ExamId }).ResponseAsync);
        Assert.Equal("EMAIL_NOT_REGISTERED", Assert.Single(RpcAssert.PreconditionViolations(ex)).Type);
    }

    public void Dispose() => _journey.Dispose();
}
