using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>The learner's journey through the gateway against every real service, to a certificate and its withdrawal.</summary>
[Collection(StackCollection.Name)]
public sealed class LearnerJourneyTests(EndToEndStack stack) : IDisposable
{
    private readonly Journey _journey = stack.NewJourney();

    [Fact]
    public async Task Happy_path_ends_with_a_certificate_on_the_dashboard_that_anyone_can_verify()
    {
        var course = Journey.Id("course");
        // The identity provider spells the name its own way; the certificate shows the name registered with identity.
        var submitted = await _journey.SubmittedSessionAsync(course, "Grace Hopper", tokenName: "G. HOPPER (SSO)");
        Assert.Equal(SessionState.Submitted, submitted.Receipt.State);
        Assert.All(submitted.Receipt.Items, i => Assert.True(i.Ticked));
        Assert.Equal(64, submitted.Receipt.ReceiptDigest.Length);

        var checking = await _journey.AwaitEntryAsync(submitted.Token, submitted.SessionId, e => e.Status == ResultStatus.BeingChecked);
        Assert.Equal(submitted.Exam.Title, checking.ExamTitle);

        var board = TestTokens.Board(Journey.Id("board"), course);
        await _journey.AwaitReviewableAsync(board, course, submitted.SessionId);
        var record = (await _journey.Board(board).GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = submitted.SessionId })).Record;
        Assert.True(record.IdDocumentPhotoAccepted);
        Assert.Equal(3, record.Score);
        var photo = await _journey.Board(board).GetReviewPhotoAsync(new GetReviewPhotoRequest { SessionId = submitted.SessionId, Kind = ReviewPhotoKind.IdDocument });
        Assert.True(photo.Data.Length > 1000);

        await _journey.Board(board).RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = Journey.RequestId(), SessionId = submitted.SessionId, Outcome = DecisionOutcome.Valid,
        });

        var certified = await _journey.AwaitEntryAsync(submitted.Token, submitted.SessionId, e => e.Status == ResultStatus.Certified);
        Assert.NotNull(certified.Certificate);
        Assert.False(string.IsNullOrEmpty(certified.Certificate.VerificationCode));
        Assert.Equal("Grace Hopper", certified.Certificate.LearnerName);

        // Anyone, without a token, through the gateway.
        var verdict = await _journey.Verification().VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = certified.Certificate.VerificationCode });
        Assert.Equal(VerificationResult.Valid, verdict.Result);
        Assert.Equal(submitted.Exam.Title, verdict.Certificate.ExamTitle);
    }

    [Fact]
    public async Task A_withdrawal_appears_live_on_the_dashboard_stream_and_on_verification()
    {
        var course = Journey.Id("course");
        var submitted = await _journey.SubmittedSessionAsync(course);
        var board = TestTokens.Board(Journey.Id("board"), course);
        await _journey.AwaitReviewableAsync(board, course, submitted.SessionId);
        var valid = (await _journey.Board(board).RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = Journey.RequestId(), SessionId = submitted.SessionId, Outcome = DecisionOutcome.Valid,
        })).Decision;
        var certified = await _journey.AwaitEntryAsync(submitted.Token, submitted.SessionId, e => e.Status == ResultStatus.Certified);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var watch = _journey.Dashboard(submitted.Token).WatchDashboard(new WatchDashboardRequest(), cancellationToken: cts.Token);
        // The snapshot first, with the certificate as it is now.
        Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
        Assert.True(watch.ResponseStream.Current.Snapshot);

        await _journey.Board(board).RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = Journey.RequestId(), SessionId = submitted.SessionId, Outcome = DecisionOutcome.Withdrawn,
            Reason = RefusalReason.ThirdPartyAssistance, Notes = "Someone else answered.", ExpectedVersion = valid.Version,
        });

        DashboardEntry? withdrawn = null;
        while (await watch.ResponseStream.MoveNext(cts.Token))
        {
            var update = watch.ResponseStream.Current;
            if (!update.Snapshot && update.Entry.SessionId == submitted.SessionId && update.Entry.Status == ResultStatus.Withdrawn)
            {
                withdrawn = update.Entry;
                break;
            }
        }
        Assert.NotNull(withdrawn);
        Assert.False(string.IsNullOrEmpty(withdrawn.Reason));
        Assert.Equal(CertificateStatus.Withdrawn, withdrawn.Certificate.Status);

        var verdict = await _journey.Verification().VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = certified.Certificate.VerificationCode });
        Assert.Equal(VerificationResult.Withdrawn, verdict.Result);
    }

    public void Dispose() => _journey.Dispose();
}
