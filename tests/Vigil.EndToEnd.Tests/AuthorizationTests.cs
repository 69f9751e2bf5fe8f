using Google.Protobuf;
using Grpc.Core;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// Who may do what, through the gateway: every cross-learner and cross-course access is PermissionDenied,
/// a call without a valid token is Unauthenticated.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class AuthorizationTests(EndToEndStack stack) : IDisposable
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static SubmittedSession? _victim;
    private static string _course = string.Empty;
    private readonly Journey _journey = stack.NewJourney();

    /// <summary>Learner A's submitted session of course X, made once for every case.</summary>
    private async Task<SubmittedSession> VictimAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_victim is null)
            {
                _course = Journey.Id("course");
                _victim = await _journey.SubmittedSessionAsync(_course);
                await _journey.AwaitReviewableAsync(TestTokens.Board(Journey.Id("board"), _course), _course, _victim.SessionId);
            }
            return _victim;
        }
        finally
        {
            Gate.Release();
        }
    }

    public static TheoryData<string> CrossAccess =>
    [
        "learner reads another learner's session",
        "learner reads another learner's receipt",
        "learner submits another learner's final check",
        "learner opens another learner's exam stream",
        "learner reads another learner's dashboard",
        "learner watches another learner's dashboard",
        "learner reads another learner's verification status",
        "learner reads another learner's photo",
        "learner reads another learner's registration",
        "learner erases another learner's dashboard",
        "board of another course lists the course's sessions",
        "board of another course reads a session record",
        "board of another course reads a review photo",
        "board of another course records a decision",
        "learner records a decision",
        "learner lists sessions for review",
        "staff of another course creates an exam for the course",
        "staff of another course reads the course's exam",
        "learner creates an exam",
    ];

    [Theory]
    [MemberData(nameof(CrossAccess))]
    public async Task Cross_access_is_PermissionDenied(string scenario)
    {
        var victim = await VictimAsync();
        var intruder = (await _journey.RegisteredLearnerAsync("Mallory")).Token;
        var otherBoard = TestTokens.Board(Journey.Id("board"), Journey.Id("other-course"));
        var otherStaff = TestTokens.Staff(Journey.Id("staff"), Journey.Id("other-course"));
        Func<Task> call = scenario switch
        {
            "learner reads another learner's session" => () => _journey.Sessions(intruder).GetSessionAsync(new GetSessionRequest { SessionId = victim.SessionId }).ResponseAsync,
            "learner reads another learner's receipt" => () => _journey.Sessions(intruder).GetReceiptAsync(new GetReceiptRequest { SessionId = victim.SessionId }).ResponseAsync,
            "learner submits another learner's final check" => () => _journey.Sessions(intruder).SubmitFinalCheckAsync(new SubmitFinalCheckRequest { RequestId = Journey.RequestId(), SessionId = victim.SessionId, LastSaveSequence = victim.Receipt.LastSaveSequence }).ResponseAsync,
            "learner opens another learner's exam stream" => () => HijackStreamAsync(intruder, victim.SessionId),
            "learner reads another learner's dashboard" => () => _journey.Dashboard(intruder).GetDashboardAsync(new GetDashboardRequest { LearnerId = victim.Learner.Id }).ResponseAsync,
            "learner watches another learner's dashboard" => () => WatchOnceAsync(intruder, victim.Learner.Id),
            "learner reads another learner's verification status" => () => _journey.Identity(intruder).GetVerificationStatusAsync(new GetVerificationStatusRequest { LearnerId = victim.Learner.Id, ExamId = victim.Exam.ExamId }).ResponseAsync,
            "learner reads another learner's photo" => () => _journey.Identity(intruder).GetPhotoAsync(new GetPhotoRequest { LearnerId = victim.Learner.Id, ExamId = victim.Exam.ExamId, Kind = PhotoKind.IdDocument }).ResponseAsync,
            "learner reads another learner's registration" => () => _journey.Identity(intruder).GetLearnerAsync(new GetLearnerRequest { LearnerId = victim.Learner.Id }).ResponseAsync,
#pragma warning disable CS0612 // retired: it still refuses a caller who may not name the learner, before saying where erasure is done
            "learner erases another learner's dashboard" => () => _journey.Dashboard(intruder).EraseLearnerDataAsync(new Vigil.Contracts.Certificate.V1.EraseLearnerDataRequest { RequestId = Journey.RequestId(), LearnerId = victim.Learner.Id }).ResponseAsync,
#pragma warning restore CS0612
            "board of another course lists the course's sessions" => () => _journey.Board(otherBoard).ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = _course }).ResponseAsync,
            "board of another course reads a session record" => () => _journey.Board(otherBoard).GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = victim.SessionId }).ResponseAsync,
            "board of another course reads a review photo" => () => _journey.Board(otherBoard).GetReviewPhotoAsync(new GetReviewPhotoRequest { SessionId = victim.SessionId, Kind = ReviewPhotoKind.IdDocument }).ResponseAsync,
            "board of another course records a decision" => () => _journey.Board(otherBoard).RecordDecisionAsync(new RecordDecisionRequest { RequestId = Journey.RequestId(), SessionId = victim.SessionId, Outcome = DecisionOutcome.Valid }).ResponseAsync,
            "learner records a decision" => () => _journey.Board(intruder).RecordDecisionAsync(new RecordDecisionRequest { RequestId = Journey.RequestId(), SessionId = victim.SessionId, Outcome = DecisionOutcome.Valid }).ResponseAsync,
            "learner lists sessions for review" => () => _journey.Board(intruder).ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = _course }).ResponseAsync,
            "staff of another course creates an exam for the course" => () => _journey.Exams(otherStaff).CreateExamAsync(new CreateExamRequest { RequestId = Journey.RequestId(), Exam = ExamFor(victim.Exam) }).ResponseAsync,
            "staff of another course reads the course's exam" => () => _journey.Exams(otherStaff).GetExamAsync(new GetExamRequest { ExamId = victim.Exam.ExamId }).ResponseAsync,
            "learner creates an exam" => () => _journey.Exams(intruder).CreateExamAsync(new CreateExamRequest { RequestId = Journey.RequestId(), Exam = ExamFor(victim.Exam) }).ResponseAsync,
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, call);
    }

    [Fact]
    public async Task The_victims_own_data_stays_intact_and_readable_by_them()
    {
        var victim = await VictimAsync();
        var session = (await _journey.Sessions(victim.Token).GetSessionAsync(new GetSessionRequest { SessionId = victim.SessionId })).Session;
        Assert.Equal(victim.Learner.Id, session.LearnerId);
        Assert.Equal(SessionState.Submitted, session.State);
        var receipt = (await _journey.Sessions(victim.Token).GetReceiptAsync(new GetReceiptRequest { SessionId = victim.SessionId })).Receipt;
        Assert.Equal(victim.Receipt.ReceiptDigest, receipt.ReceiptDigest);
    }

    public static TheoryData<string> NoToken =>
    [
        "IdentityService/CheckEmail",
        "SessionService/GetSession",
        "SessionService/StreamExam",
        "ExamBoardService/ListSessionsForReview",
        "ExamService/CreateExam",
        "DashboardService/GetDashboard",
        "IdentityService/UploadPhoto",
    ];

    [Theory]
    [MemberData(nameof(NoToken))]
    public async Task A_call_without_a_token_is_Unauthenticated_at_the_gateway(string method)
    {
        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, () => CallAsync(method, token: null));
    }

    [Fact]
    public async Task Expired_forged_and_wrong_audience_tokens_are_Unauthenticated()
    {
        var expired = TestTokens.Custom(Journey.Id("learner"), [Vigil.Contracts.Auth.VigilRoles.Learner], lifetime: TimeSpan.FromMinutes(5), now: DateTimeOffset.UtcNow.AddHours(-1));
        var forged = TestTokens.Custom(Journey.Id("learner"), [Vigil.Contracts.Auth.VigilRoles.Learner], key: Convert.ToBase64String(new byte[32]));
        var wrongAudience = TestTokens.Mint(new TokenSpec(Journey.Id("learner")) { Audience = "someone-else", Roles = [Vigil.Contracts.Auth.VigilRoles.Learner] });
        foreach (var token in new[] { expired, forged, wrongAudience })
        {
            await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, () => CallAsync("DashboardService/GetDashboard", token));
        }
    }

    [Fact]
    public async Task Certificate_verification_needs_no_token()
    {
        var response = await _journey.Verification().VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = "NO-SUCH-CODE-1234" });
        Assert.Equal(VerificationResult.Unknown, response.Result);
    }

    private async Task CallAsync(string method, string? token)
    {
        switch (method)
        {
            case "IdentityService/CheckEmail":
                await _journey.Identity(token).CheckEmailAsync(new CheckEmailRequest { Email = "a@example.org" });
                break;
            case "SessionService/GetSession":
                await _journey.Sessions(token).GetSessionAsync(new GetSessionRequest { SessionId = "s" });
                break;
            case "SessionService/StreamExam":
                await HijackStreamAsync(token, "s");
                break;
            case "ExamBoardService/ListSessionsForReview":
                await _journey.Board(token).ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = "c" });
                break;
            case "ExamService/CreateExam":
                await _journey.Exams(token).CreateExamAsync(new CreateExamRequest { RequestId = Journey.RequestId(), Exam = new Exam { CourseId = "c" } });
                break;
            case "DashboardService/GetDashboard":
                await _journey.Dashboard(token).GetDashboardAsync(new GetDashboardRequest());
                break;
            case "IdentityService/UploadPhoto":
                {
                    using var call = _journey.Identity(token).UploadPhoto();
                    try
                    {
                        await call.RequestStream.WriteAsync(new UploadPhotoRequest { Chunk = ByteString.CopyFrom(new byte[16]) });
                        await call.RequestStream.CompleteAsync();
                    }
                    catch (RpcException)
                    {
                        // The status is read from the response below.
                    }
                    catch (InvalidOperationException)
                    {
                        // The call already completed with its status.
                    }
                    await call.ResponseAsync;
                    break;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(method));
        }
    }

    private async Task HijackStreamAsync(string? token, string sessionId)
    {
        using var call = _journey.Sessions(token).StreamExam();
        try
        {
            await call.RequestStream.WriteAsync(new StreamExamRequest { Open = new OpenStream { SessionId = sessionId } });
            await call.RequestStream.WriteAsync(new StreamExamRequest { Save = new AnswerSave { Sequence = 99, QuestionId = "q1", Answer = new Answer { Choice = new ChoiceAnswer { OptionIds = { "third" } } } } });
        }
        catch (RpcException)
        {
            // Writing may fail once the server has answered; the status is read below.
        }
        catch (InvalidOperationException)
        {
            // The call already completed with its status.
        }
        while (await call.ResponseStream.MoveNext())
        {
            Assert.Fail($"The stream of someone else's session answered: {call.ResponseStream.Current}");
        }
        Assert.Fail("The stream of someone else's session closed without an error.");
    }

    private async Task WatchOnceAsync(string token, string learnerId)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var call = _journey.Dashboard(token).WatchDashboard(new WatchDashboardRequest { LearnerId = learnerId }, cancellationToken: cts.Token);
        while (await call.ResponseStream.MoveNext(cts.Token))
        {
            Assert.Fail($"Someone else's dashboard answered: {call.ResponseStream.Current}");
        }
    }

    private static Exam ExamFor(Exam template)
    {
        var exam = template.Clone();
        exam.ExamId = string.Empty;
        exam.Version = 0;
        return exam;
    }

    public void Dispose() => _journey.Dispose();
}
