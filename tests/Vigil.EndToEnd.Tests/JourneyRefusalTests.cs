using Grpc.Core;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>What the journey refuses through the gateway: an alias email, a start without an ID-document photo.</summary>
[Collection(StackCollection.Name)]
public sealed class JourneyRefusalTests(VigilStack stack) : IDisposable
{
    private readonly Flow _flow = new(stack);

    [Fact]
    public async Task An_alias_email_is_refused_with_the_address_to_use()
    {
        var id = Flow.Id("learner");
        var token = TestTokens.Learner(id);
        var alias = $"{id}+mooc@example.org";
        var check = await _flow.Identity(token).CheckEmailAsync(new CheckEmailRequest { Email = alias });
        Assert.Equal(EmailVerdict.Refused, check.Verdict);
        Assert.Equal(EmailRefusalReason.Alias, check.Reason);
        Assert.Equal($"{id}@example.org", check.SuggestedEmail);

        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, () =>
            _flow.Identity(token).RegisterLearnerAsync(new RegisterLearnerRequest { RequestId = Flow.RequestId(), Email = alias, DisplayName = "Alias" }).ResponseAsync);
        Assert.Contains(RpcAssert.FieldViolations(ex), v => v.Field == "email");
    }

    [Fact]
    public async Task An_exam_started_without_an_ID_photo_is_refused()
    {
        var (_, token) = await _flow.RegisteredLearnerAsync();
        var exam = await _flow.ExamAsync(Flow.Id("course"));
        await _flow.CompleteStepAsync(token, exam.ExamId, VerificationStep.SystemCheck);
        await _flow.CompleteStepAsync(token, exam.ExamId, VerificationStep.MicrophoneTest);

        var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () =>
            _flow.Sessions(token).StartSessionAsync(new StartSessionRequest { RequestId = Flow.RequestId(), ExamId = exam.ExamId }).ResponseAsync);
        Assert.NotEmpty(ex.Status.Detail);

        var status = (await _flow.Identity(token).GetVerificationStatusAsync(new GetVerificationStatusRequest { ExamId = exam.ExamId })).Status;
        Assert.False(status.MayStartExam);
        Assert.Equal(VerificationStep.IdDocumentPhoto, status.NextStep);
    }

    public void Dispose() => _flow.Dispose();
}
