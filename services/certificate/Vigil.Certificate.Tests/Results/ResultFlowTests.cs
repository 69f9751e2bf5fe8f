using Vigil.Certificate.Store;
using Vigil.Certificate.Tests.Infrastructure;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using static Vigil.Certificate.Tests.Infrastructure.Events;

namespace Vigil.Certificate.Tests.Results;

/// <summary>The rule table end to end: real events through RabbitMQ, results read through the dashboard's gRPC API.</summary>
[Collection(RunningServiceCollection.Name)]
public sealed class ResultFlowTests(RunningService service)
{
    private CertificateHost Host => service.Host;

    [Theory]
    [InlineData(SubmissionKind.FinalCheck)]
    [InlineData(SubmissionKind.DeadlinePolicy)]
    [InlineData(SubmissionKind.BoardException)]
    public async Task Validated_with_photo_and_pass_mark_is_being_checked_then_certified(SubmissionKind kind)
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        await Host.PublishAsync(Submitted(session, learner, score: 60, kind: kind));
        var checking = await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.BeingChecked);
        Assert.Contains("checking", checking.Reason, StringComparison.Ordinal);
        Assert.Equal(0, checking.Score); // not released while the board checks
        Assert.Null(checking.Certificate);
        Assert.NotNull(checking.SubmittedAt);

        await Host.PublishAsync(Decision(session, learner, 1, DecisionOutcome.Valid));
        var certified = await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.Certified);
        Assert.Equal(60, certified.Score);
        Assert.Equal(100, certified.MaxScore);
        Assert.Equal(60, certified.PassMark);
        Assert.NotNull(certified.DecidedAt);
        Assert.Equal("Urban ecology — final exam", certified.ExamTitle);
        Assert.NotNull(certified.Certificate);
        Assert.Equal(CertificateStatus.Valid, certified.Certificate.Status);
        Assert.Equal("Zoë Martin", certified.Certificate.LearnerName);
        Assert.Equal("ES256", certified.Certificate.Algorithm);
        Assert.Equal(TestKeys.SharedKeyId, certified.Certificate.KeyId);
    }

    [Fact]
    public async Task Below_the_pass_mark_is_not_passed()
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        await Host.PublishAsync(Submitted(session, learner, score: 59.5));
        await Host.PublishAsync(Decision(session, learner, 1, DecisionOutcome.Valid));
        var entry = await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.NotPassed);
        Assert.Null(entry.Certificate);
        Assert.Equal(59.5, entry.Score);
        Assert.Contains("pass mark", entry.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_id_photo_is_invalid_whatever_the_mark_and_the_board()
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        await Host.PublishAsync(Submitted(session, learner, score: 100, idPhoto: false));
        var entry = await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.InvalidNoIdPhoto);
        Assert.Contains("ID document", entry.Reason, StringComparison.Ordinal);

        var valid = Decision(session, learner, 1, DecisionOutcome.Valid);
        await Host.PublishAsync(valid);
        await Host.WaitConsumedAsync(valid.EventId);
        entry = await Host.WaitEntryAsync(learner, session, _ => true);
        Assert.Equal(ResultStatus.InvalidNoIdPhoto, entry.Status);
        Assert.Null(entry.Certificate);
    }

    [Fact]
    public async Task The_board_may_refuse_a_passing_mark_and_the_reason_shows()
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        await Host.PublishAsync(Submitted(session, learner, score: 95));
        await Host.PublishAsync(Decision(session, learner, 1, DecisionOutcome.Refused, "REFUSAL_REASON_HEADPHONES", "Headphones were worn during the exam."));
        var entry = await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.Refused);
        Assert.Contains("Headphones were worn during the exam.", entry.Reason, StringComparison.Ordinal);
        Assert.Equal("REFUSAL_REASON_HEADPHONES", entry.ReasonCode);
        Assert.Null(entry.Certificate);
    }

    [Fact]
    public async Task The_board_may_withdraw_a_certificate_later_and_it_then_verifies_as_withdrawn()
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        await Host.PublishAsync(Submitted(session, learner));
        await Host.PublishAsync(Decision(session, learner, 1, DecisionOutcome.Valid));
        var certified = await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.Certified);
        var code = certified.Certificate.VerificationCode;

        await Host.PublishAsync(Decision(session, learner, 2, DecisionOutcome.Withdrawn, "REFUSAL_REASON_THIRD_PARTY_ASSISTANCE", "Someone else helped during the exam."));
        var withdrawn = await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.Withdrawn);
        Assert.Contains("Someone else helped", withdrawn.Reason, StringComparison.Ordinal);
        Assert.Equal("REFUSAL_REASON_THIRD_PARTY_ASSISTANCE", withdrawn.ReasonCode);
        Assert.Equal(CertificateStatus.Withdrawn, withdrawn.Certificate.Status);
        Assert.Equal(code, withdrawn.Certificate.VerificationCode);

        var verdict = await Host.Verification().VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = code });
        Assert.Equal(VerificationResult.Withdrawn, verdict.Result);
        Assert.Contains("Someone else helped", verdict.WithdrawalReason, StringComparison.Ordinal);
        Assert.NotNull(verdict.WithdrawnAt);
    }

    [Fact]
    public async Task Answers_never_validated_show_not_submitted()
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        await Host.PublishAsync(Expired(session, learner));
        var entry = await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.NotSubmitted);
        Assert.Contains("not submitted", entry.Reason, StringComparison.Ordinal);
        Assert.Null(entry.Certificate);
    }

    [Fact]
    public async Task A_board_exception_after_expiry_submits_the_answers()
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        await Host.PublishAsync(Expired(session, learner));
        await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.NotSubmitted);
        await Host.PublishAsync(Submitted(session, learner, kind: SubmissionKind.BoardException));
        await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.BeingChecked);

        // An expiry arriving after the submission changes nothing.
        var late = Expired(session, learner);
        await Host.PublishAsync(late);
        await Host.WaitConsumedAsync(late.EventId);
        Assert.Equal(ResultStatus.BeingChecked, (await Host.WaitEntryAsync(learner, session, _ => true)).Status);
    }

    [Fact]
    public async Task A_decision_before_its_submission_is_kept_and_applied_when_it_arrives()
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        var decision = Decision(session, learner, 1, DecisionOutcome.Valid);
        await Host.PublishAsync(decision);
        await Host.WaitConsumedAsync(decision.EventId);
        Assert.Equal(ResultStatus.BeingChecked, (await Host.WaitEntryAsync(learner, session, _ => true)).Status);

        await Host.PublishAsync(Submitted(session, learner));
        var entry = await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.Certified);
        Assert.NotNull(entry.Certificate);
    }

    [Fact]
    public async Task A_withdrawal_delivered_before_the_grant_it_cancels_ends_withdrawn()
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        await Host.PublishAsync(Submitted(session, learner));
        await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.BeingChecked);

        var withdrawal = Decision(session, learner, 2, DecisionOutcome.Withdrawn, "REFUSAL_REASON_INTERNET", "The Internet was used during the exam.");
        await Host.PublishAsync(withdrawal);
        await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.Withdrawn);

        var grant = Decision(session, learner, 1, DecisionOutcome.Valid);
        await Host.PublishAsync(grant);
        await Host.WaitConsumedAsync(grant.EventId);
        var entry = await Host.WaitEntryAsync(learner, session, _ => true);
        Assert.Equal(ResultStatus.Withdrawn, entry.Status);
        Assert.Contains("The Internet was used", entry.Reason, StringComparison.Ordinal);
        Assert.Null(entry.Certificate); // never granted, so never issued
    }

    [Fact]
    public async Task A_duplicate_event_changes_nothing_the_second_time()
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        var submitted = Submitted(session, learner);
        var decision = Decision(session, learner, 1, DecisionOutcome.Valid);
        await Host.PublishAsync(submitted);
        await Host.PublishAsync(decision);
        var first = await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.Certified);
        await Host.WaitConsumedAsync(decision.EventId);
        var stored = (await Host.Store.GetAsync(session))!;
        var (revision, factsRevision) = (stored.ProjectionRevision, stored.FactsRevision);

        // The same events again (a redelivery), and a different decision event carrying the same version.
        await Host.PublishAsync(submitted);
        await Host.PublishAsync(decision);
        var sameVersion = Decision(session, learner, 1, DecisionOutcome.Refused, "REFUSAL_REASON_CAMERA", "Camera off.");
        await Host.PublishAsync(sameVersion);
        await Host.WaitConsumedAsync(submitted.EventId, 2);
        await Host.WaitConsumedAsync(decision.EventId, 2);
        await Host.WaitConsumedAsync(sameVersion.EventId);

        var second = await Host.WaitEntryAsync(learner, session, _ => true);
        Assert.Equal(first, second);
        var again = (await Host.Store.GetAsync(session))!;
        Assert.Equal((revision, factsRevision), (again.ProjectionRevision, again.FactsRevision));
        Assert.True(revision > 0 && factsRevision > 0);
        Assert.Single((await Host.Dashboard(Vigil.Testing.TestTokens.Learner(learner)).GetDashboardAsync(new GetDashboardRequest())).Entries);
    }

    [Fact]
    public async Task Concurrent_deliveries_of_the_same_event_issue_one_certificate()
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        await Host.PublishAsync(Submitted(session, learner));
        await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.BeingChecked);
        var decision = Decision(session, learner, 1, DecisionOutcome.Valid);
        for (var i = 0; i < 5; i++) await Host.PublishAsync(decision);
        await Host.WaitConsumedAsync(decision.EventId, 5);
        var entry = await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.Certified);
        var verdict = await Host.Verification().VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = entry.Certificate.VerificationCode });
        Assert.Equal(VerificationResult.Valid, verdict.Result);
        Assert.Equal(entry.Certificate.CertificateId, verdict.Certificate.CertificateId);
    }
}
