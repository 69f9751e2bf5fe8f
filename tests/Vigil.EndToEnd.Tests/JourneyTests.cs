using Grpc.Core;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>The learner's journey through the gateway against every real service.</summary>
[Collection(StackCollection.Name)]
public sealed class JourneyTests(VigilStack stack) : IDisposable
{
    private readonly Flow _flow = new(stack);

    [Fact]
    public async Task Happy_path_ends_with_a_certificate_on_the_dashboard_that_anyone_can_verify()
    {
        var course = Flow.Id("course");
        var submitted = await _flow.SubmittedSessionAsync(course);
        Assert.Equal(SessionState.Submitted, submitted.Receipt.State);
        Assert.All(submitted.Receipt.Items, i => Assert.True(i.Ticked));
        Assert.Equal(64, submitted.Receipt.ReceiptDigest.Length);

        var checking = await _flow.AwaitDashboardAsync(submitted.Token, submitted.SessionId, e => e.Status == ResultStatus.BeingChecked);
        Assert.Equal(submitted.Exam.Title, checking.ExamTitle);

        var board = TestTokens.Board(Flow.Id("board"), course);
        await _flow.AwaitReviewableAsync(board, course, submitted.SessionId);
        var record = (await _flow.Board(board).GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = submitted.SessionId })).Record;
        Assert.True(record.IdDocumentPhotoAccepted);
        Assert.Equal(2, record.Score);
        var photo = await _flow.Board(board).GetReviewPhotoAsync(new GetReviewPhotoRequest { SessionId = submitted.SessionId, Kind = ReviewPhotoKind.IdDocument });
        Assert.True(photo.Data.Length > 1000);

        await _flow.Board(board).RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = Flow.RequestId(), SessionId = submitted.SessionId, Outcome = DecisionOutcome.Valid,
        });

        var certified = await _flow.AwaitDashboardAsync(submitted.Token, submitted.SessionId, e => e.Status == ResultStatus.Certified);
        Assert.NotNull(certified.Certificate);
        Assert.False(string.IsNullOrEmpty(certified.Certificate.VerificationCode));
        Assert.Equal("Grace Hopper", certified.Certificate.LearnerName);

        // Anyone, without a token, through the gateway.
        var verdict = await _flow.Verification().VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = certified.Certificate.VerificationCode });
        Assert.Equal(VerificationResult.Valid, verdict.Result);
        Assert.Equal(submitted.Exam.Title, verdict.Certificate.ExamTitle);
    }

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

    [Fact]
    public async Task A_withdrawal_appears_live_on_the_dashboard_stream_and_on_verification()
    {
        var course = Flow.Id("course");
        var submitted = await _flow.SubmittedSessionAsync(course);
        var board = TestTokens.Board(Flow.Id("board"), course);
        await _flow.AwaitReviewableAsync(board, course, submitted.SessionId);
        var valid = (await _flow.Board(board).RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = Flow.RequestId(), SessionId = submitted.SessionId, Outcome = DecisionOutcome.Valid,
        })).Decision;
        var certified = await _flow.AwaitDashboardAsync(submitted.Token, submitted.SessionId, e => e.Status == ResultStatus.Certified);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var watch = _flow.Dashboard(submitted.Token).WatchDashboard(new WatchDashboardRequest(), cancellationToken: cts.Token);
        // The snapshot first, with the certificate as it is now.
        Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
        Assert.True(watch.ResponseStream.Current.Snapshot);

        await _flow.Board(board).RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = Flow.RequestId(), SessionId = submitted.SessionId, Outcome = DecisionOutcome.Withdrawn,
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

        var verdict = await _flow.Verification().VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = certified.Certificate.VerificationCode });
        Assert.Equal(VerificationResult.Withdrawn, verdict.Result);
    }

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

    [Fact]
    public async Task Photo_uploads_are_rate_limited_per_learner_with_ResourceExhausted()
    {
        var (_, token) = await _flow.RegisteredLearnerAsync();
        var (_, other) = await _flow.RegisteredLearnerAsync();
        var exam = await _flow.ExamAsync(Flow.Id("course"));
        await _flow.CompleteStepAsync(token, exam.ExamId, VerificationStep.SystemCheck);
        await _flow.CompleteStepAsync(token, exam.ExamId, VerificationStep.MicrophoneTest);
        var tiny = Vigil.Cli.Images.SampleImages.IdDocument();
        for (var i = 0; i < VigilStack.PhotoUploadsPerWindow; i++)
        {
            await _flow.UploadAsync(token, exam.ExamId, PhotoKind.IdDocument, tiny);
        }
        var ex = await RpcAssert.ThrowsAsync(StatusCode.ResourceExhausted, () => _flow.UploadAsync(token, exam.ExamId, PhotoKind.IdDocument, tiny));
        Assert.Contains("Too many requests", ex.Status.Detail, StringComparison.Ordinal);

        // Another learner is not affected.
        await _flow.CompleteStepAsync(other, exam.ExamId, VerificationStep.SystemCheck);
        await _flow.CompleteStepAsync(other, exam.ExamId, VerificationStep.MicrophoneTest);
        var accepted = await _flow.UploadAsync(other, exam.ExamId, PhotoKind.IdDocument, tiny);
        Assert.Equal(PhotoVerdict.Accepted, accepted.Verdict);
    }

    public void Dispose() => _flow.Dispose();
}
