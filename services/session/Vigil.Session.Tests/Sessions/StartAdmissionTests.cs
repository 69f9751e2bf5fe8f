using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Sessions;

/// <summary>
/// StartSession asks identity whether the learner is admitted (AdmitToExam): a registered address that today's rules
/// accept, then the verification. The name and email the session (and its SessionSubmitted event, hence the
/// certificate) carries are identity's record, never the token's.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class StartAdmissionTests(SessionFixture f)
{
    [Fact]
    public async Task A_learner_who_never_registered_an_email_cannot_start_even_fully_verified()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var id = Journey.Id("learner");
        var learner = new TestLearner(id, "Token Name", TestTokens.Learner(id, "Token Name"), f.Journey);
        await f.Journey.VerifyAsync(learner, exam.ExamId);

        var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () => learner.StartAsync(exam.ExamId));
        var violation = Assert.Single(RpcAssert.PreconditionViolations(ex));
        Assert.Equal("EMAIL_NOT_REGISTERED", violation.Type);
        Assert.Equal("identity/email", violation.Subject);
        Assert.Contains("Register your email", ex.Status.Detail, StringComparison.Ordinal);

        // Nothing was held: once registered, the same learner starts.
        await learner.Identity().RegisterLearnerAsync(new RegisterLearnerRequest { RequestId = Journey.RequestId(), Email = id + "@example.org", DisplayName = "Ada Registered" });
        Assert.Equal(Contracts.Session.V1.SessionState.InProgress, (await learner.StartAsync(exam.ExamId)).State);
    }

    [Fact]
    public async Task A_learner_whose_registration_was_refused_for_an_alias_cannot_start()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var id = Journey.Id("learner");
        var learner = new TestLearner(id, "Jane", TestTokens.Learner(id, "Jane"), f.Journey);
        var refused = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await learner.Identity().RegisterLearnerAsync(
            new RegisterLearnerRequest { RequestId = Journey.RequestId(), Email = id + "+mooc@example.org", DisplayName = "Jane" }));
        Assert.Contains(RpcAssert.FieldViolations(refused), v => v.Field == "email");
        await f.Journey.VerifyAsync(learner, exam.ExamId);

        var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () => learner.StartAsync(exam.ExamId));
        Assert.Equal("EMAIL_NOT_REGISTERED", Assert.Single(RpcAssert.PreconditionViolations(ex)).Type);
    }

    [Fact]
    public async Task A_registered_address_that_todays_rules_refuse_stops_the_start_with_the_reason()
    {
        // Registered while the domain's '-' was not a known alias separator; the rules have since learned it.
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var learner = await f.Journey.RegisteredLearnerAsync();
        await learner.Identity().RegisterLearnerAsync(new RegisterLearnerRequest { RequestId = Journey.RequestId(), Email = learner.Id + "-mooc@strict.example", DisplayName = learner.Name });
        await f.Journey.VerifyAsync(learner, exam.ExamId);
        await using var stricter = new VigilServiceFactory<IdentityApp>("session")
            .With("Emails:Providers:0:Name", "Strict")
            .With("Emails:Providers:0:Domains:0", "strict.example")
            .With("Emails:Providers:0:Separators", "-");
        await using var replica = f.Replica(identityHandler: stricter.Server.CreateHandler);

        var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await learner.Sessions(replica).StartSessionAsync(
            new Contracts.Session.V1.StartSessionRequest { RequestId = Journey.RequestId(), ExamId = exam.ExamId }));
        var violation = Assert.Single(RpcAssert.PreconditionViolations(ex));
        Assert.Equal("EMAIL_REFUSED", violation.Type);
        Assert.Contains("alias", violation.Description, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Both_the_email_and_the_missing_steps_are_named_at_once()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var id = Journey.Id("learner");
        var learner = new TestLearner(id, "Nobody", TestTokens.Learner(id), f.Journey);

        var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () => learner.StartAsync(exam.ExamId));
        var types = RpcAssert.PreconditionViolations(ex).Select(v => v.Type).ToList();
        Assert.Equal("EMAIL_NOT_REGISTERED", types[0]);
        Assert.Contains("VERIFICATION_INCOMPLETE", types);
    }

    [Fact]
    public async Task The_session_and_its_event_carry_identitys_name_and_email_not_the_tokens()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var id = Journey.Id("learner");
        var learner = new TestLearner(id, "Token Name", TestTokens.Learner(id, "Token Name"), f.Journey);
        await learner.Identity().RegisterLearnerAsync(new RegisterLearnerRequest { RequestId = Journey.RequestId(), Email = id + "@example.org", DisplayName = "Ada Lovelace" });
        await f.Journey.VerifyAsync(learner, exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        var last = await f.Journey.SaveAnswersAsync(learner, session.SessionId, ("q1", TestAnswers.Choice("b")));
        await f.Journey.SubmitAsync(learner, session.SessionId, last);

        var submitted = Assert.Single(await f.Events.WaitAsync("SessionSubmitted", session.SessionId));
        Assert.Equal("Ada Lovelace", submitted.Message.GetProperty("learnerName").GetString());
        Assert.Equal(id + "@example.org", submitted.Message.GetProperty("learnerEmail").GetString());
    }
}
