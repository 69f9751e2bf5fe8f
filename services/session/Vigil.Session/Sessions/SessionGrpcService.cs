using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.Session.Exams;
using Vigil.Session.Identity;
using Vigil.Session.Paging;
using Vigil.Session.Storage;

namespace Vigil.Session.Sessions;

/// <summary>SessionService: start, the exam stream, the final check and its receipt. A learner reaches only their own sessions.</summary>
internal sealed partial class SessionGrpcService(
    ExamStore exams,
    SessionStore sessions,
    SessionFinisher finisher,
    SessionAccess access,
    IdentityGateway identity,
    ExamStream stream,
    ProblemReports problems,
    TimeProvider time,
    ILogger<SessionGrpcService> logger) : SessionService.SessionServiceBase
{
    public override async Task<StartSessionResponse> StartSession(StartSessionRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        caller.RequireLearner();
        var violations = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.RequestId)) violations.Add(("request_id", "An idempotency key is required."));
        if (string.IsNullOrWhiteSpace(request.ExamId)) violations.Add(("exam_id", "The exam is required."));
        if (violations.Count > 0) throw new InvalidRequestException(violations);
        var exam = await exams.GetAsync(request.ExamId) ?? throw new ResourceNotFoundException("exam", request.ExamId);
        var learnerId = caller.Subject;

        var limit = ExamValidator.MaxAttempts(exam);
        for (var round = 0; round < 3; round++)
        {
            // The claim names the learner's latest attempt: a new one starts only once it has ended.
            string? previous = null;
            var previousReset = false;
            if (await sessions.GetClaimAsync(exam.ExamId, learnerId) is { } claimed)
            {
                var existing = await sessions.GetAsync(claimed);
                if (existing is null)
                {
                    // A start crashed between its claim and its session: finish that start with the claimed id.
                    var number = await sessions.AttemptNumberAsync(exam.ExamId, learnerId, claimed);
                    var resumed = await CreateAsync(claimed, exam, learnerId, request.RequestId, number, null, context.CancellationToken);
                    if (resumed is not null) return Started(resumed);
                    continue;
                }
                if (existing.StartRequest == request.RequestId) return Started(existing);
                if (!existing.IsFinished)
                {
                    throw new PreconditionFailedException("SESSION_ALREADY_STARTED", "sessions/" + existing.SessionId,
                        $"You already have a session for this exam in progress ({existing.SessionId}). Resume it with GetSession.");
                }
                (previous, previousReset) = (existing.SessionId, existing.ResetAt is not null);
            }

            var sessionId = "ses-" + Guid.NewGuid().ToString("N");
            var claim = await sessions.ClaimAttemptAsync(exam.ExamId, learnerId, sessionId, previous, previousReset, limit);
            if (claim.Status == AttemptClaimStatus.Held) continue;
            if (claim.Status == AttemptClaimStatus.Exhausted)
            {
                throw new PreconditionFailedException("ATTEMPTS_EXHAUSTED", "exams/" + exam.ExamId,
                    $"You have used {claim.Used} of the {limit} attempt(s) this exam allows; the course staff may reset an attempt.")
                {
                    Info = new Dictionary<string, string>
                    {
                        ["used"] = claim.Used.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    },
                };
            }
            var started = await CreateAsync(sessionId, exam, learnerId, request.RequestId, claim.Number, previous, context.CancellationToken);
            if (started is not null)
            {
                LogStarted(logger, started.SessionId, exam.ExamId);
                return Started(started);
            }
        }
        throw new ConcurrentChangeException("Another start of this exam ran at the same time; retry.");
    }

    /// <summary>
    /// Creates the claimed attempt number <paramref name="attempt"/>; a refused start gives the claim back to
    /// <paramref name="previous"/> (the attempt it named before).
    /// </summary>
    private async Task<SessionData?> CreateAsync(string sessionId, Exam exam, string learnerId, string requestId, int attempt, string? previous, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var opens = exam.WindowOpensAt.ToDateTimeOffset();
        var closes = exam.WindowClosesAt.ToDateTimeOffset();
        if (now < opens || now > closes)
        {
            await sessions.ReleaseClaimAsync(exam.ExamId, learnerId, sessionId, previous);
            throw new PreconditionFailedException("OUTSIDE_EXAM_WINDOW", "exams/" + exam.ExamId,
                $"This exam may be started between {opens:u} and {closes:u}.");
        }
        var admission = await identity.AdmitAsync(requestId, learnerId, exam.ExamId, sessionId, ct);
        if (!admission.Admitted)
        {
            await sessions.ReleaseClaimAsync(exam.ExamId, learnerId, sessionId, previous);
            throw NotAdmitted(exam.ExamId, admission);
        }
        var learner = admission.Learner;
        var extra = await exams.GetExtraTimeAsync(exam.ExamId, learnerId);
        var allowance = await exams.GetAllowanceAsync(exam.ExamId, learnerId);
        var multiplier = Allowances.Multiplier(allowance);
        var deadline = now + Allowances.TimeLimit(exam.TimeLimit.ToTimeSpan(), multiplier) + extra;
        await sessions.CreateAsync(new NewSession(sessionId, exam, learnerId,
            string.IsNullOrWhiteSpace(learner.DisplayName) ? learnerId : learner.DisplayName, learner.Email, now, deadline,
            Pinned(admission, PhotoKind.IdDocument), Pinned(admission, PhotoKind.Face), requestId,
            allowance?.GracePeriod?.ToTimeSpan() ?? TimeSpan.Zero, multiplier, allowance?.AllowedRules?.HeadphonesAllowed == true, attempt));
        var created = await sessions.GetAsync(sessionId);
        if (created is not null && created.StartRequest != requestId)
        {
            throw new PreconditionFailedException("SESSION_ALREADY_STARTED", "sessions/" + created.SessionId,
                $"You already have a session for this exam in progress ({created.SessionId}). Resume it with GetSession.");
        }
        return created;
    }

    private static PinnedEvidence? Pinned(AdmitToExamResponse admission, PhotoKind kind) =>
        admission.Photos.FirstOrDefault(p => p.Kind == kind) is { } p ? new PinnedEvidence(p.PhotoId, p.Sha256, p.TakenAt.ToDateTimeOffset()) : null;

    /// <summary>Why identity did not admit the learner: the email first (no exam without a registered, accepted address), then each missing step.</summary>
    private static PreconditionFailedException NotAdmitted(string examId, AdmitToExamResponse admission)
    {
        var violations = new List<(string Type, string Subject, string Description)>();
        var sentences = new List<string>();
        switch (admission.EmailStanding)
        {
            case EmailStanding.Accepted:
                break;
            case EmailStanding.Refused:
                violations.Add(("EMAIL_REFUSED", "identity/email", admission.EmailMessage));
                sentences.Add(admission.EmailMessage);
                break;
            default:
                violations.Add(("EMAIL_NOT_REGISTERED", "identity/email", admission.EmailMessage.Length > 0 ? admission.EmailMessage : "Register your email address first."));
                sentences.Add("Register your email address first: no exam without a registered address of your own.");
                break;
        }
        var status = admission.Verification;
        if (!status.MayStartExam)
        {
            var missing = status.Missing.ToList();
            if (status.IdDocumentPhotoId.Length == 0 && !missing.Contains(VerificationStep.IdDocumentPhoto)) missing.Insert(0, VerificationStep.IdDocumentPhoto);
            violations.AddRange(missing.Select(step => ("VERIFICATION_INCOMPLETE", "verification/" + step, StepText(step))));
            if (missing.Count == 0)
            {
                violations.Add(("VERIFICATION_INCOMPLETE", "exams/" + examId, "The identity service does not allow this exam to start yet."));
            }
            var noIdPhoto = status.IdDocumentPhotoId.Length == 0
                ? "No accepted photo of your ID document: without it there is no exam. "
                : string.Empty;
            sentences.Add(noIdPhoto + "Finish the verification phase first; missing: " + string.Join(", ", missing.Select(s => s.ToString())) + ".");
        }
        return new PreconditionFailedException(string.Join(" ", sentences), violations);
    }

    private static string StepText(VerificationStep step) => step switch
    {
        VerificationStep.IdDocumentPhoto => "Take the photo of your ID document (the card or passport, not your face): without it there is no exam.",
        VerificationStep.FacePhoto => "Take the photo of your face.",
        VerificationStep.SystemCheck => "Run the system check.",
        VerificationStep.MicrophoneTest => "Run the microphone test.",
        VerificationStep.RoomScan => "Scan the room.",
        _ => "Complete the verification step " + step + ".",
    };

    private static StartSessionResponse Started(SessionData session)
    {
        var response = new StartSessionResponse
        {
            Session = session.ToProto(),
            ExamTitle = session.Exam.Title,
            Instructions = session.Exam.Instructions,
        };
        response.Questions.AddRange(ExamValidator.ForLearner(session.Exam));
        return response;
    }

    public override async Task<GetSessionResponse> GetSession(GetSessionRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var session = await access.ForReaderAsync(caller, request.SessionId);
        var response = new GetSessionResponse { Session = session.ToProto() };
        response.Questions.AddRange(ExamValidator.ForLearner(session.Exam));
        var answers = await sessions.GetAnswersAsync(session.SessionId);
        foreach (var q in session.Exam.Questions)
        {
            if (!answers.TryGetValue(q.QuestionId, out var a)) continue;
            response.SavedAnswers.Add(new SavedAnswer
            {
                QuestionId = a.QuestionId,
                Answer = a.Answer,
                Sequence = a.Sequence,
                AnswerDigest = a.Digest,
                SavedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(a.SavedAt),
            });
        }
        return response;
    }

    public override Task StreamExam(IAsyncStreamReader<StreamExamRequest> requestStream, IServerStreamWriter<StreamExamResponse> responseStream, ServerCallContext context) =>
        stream.RunAsync(requestStream, responseStream, context);

    public override async Task<SubmitFinalCheckResponse> SubmitFinalCheck(SubmitFinalCheckRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var violations = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.RequestId)) violations.Add(("request_id", "An idempotency key is required."));
        if (string.IsNullOrWhiteSpace(request.SessionId)) violations.Add(("session_id", "The session is required."));
        if (request.LastSaveSequence < 0) violations.Add(("last_save_sequence", "The sequence is zero or more."));
        if (violations.Count > 0) throw new InvalidRequestException(violations);
        var session = await access.ForItsLearnerAsync(caller, request.SessionId);

        if (session.IsFinished) return AlreadyFinished(session, request.LastSaveSequence);
        var result = await finisher.FinalCheckAsync(session.SessionId, request.LastSaveSequence, request.RequestId);
        switch (result.Outcome)
        {
            case FinishOutcome.Done:
                LogSubmitted(logger, session.SessionId);
                return new SubmitFinalCheckResponse { Receipt = result.Session!.Receipt };
            case FinishOutcome.SequenceMismatch:
                throw new PreconditionFailedException("SAVE_SEQUENCE_MISMATCH", "sessions/" + session.SessionId,
                    $"The server has acknowledged saves up to sequence {result.ServerLastAcked}, not {request.LastSaveSequence}: " +
                    "reopen the stream, resend any save not acknowledged, then run the final check again with the last acknowledged sequence.");
            case FinishOutcome.DeadlinePassed:
                await finisher.ExpireAsync(session.SessionId);
                throw new PreconditionFailedException("DEADLINE_PASSED", "sessions/" + session.SessionId,
                    "The deadline has passed: the answers can no longer be validated.");
            case FinishOutcome.AlreadyFinished when result.Session is not null:
                return AlreadyFinished(result.Session, request.LastSaveSequence);
            default:
                throw new ResourceNotFoundException("session", request.SessionId);
        }
    }

    private static SubmitFinalCheckResponse AlreadyFinished(SessionData session, long lastSaveSequence)
    {
        if (session.State == SessionState.Submitted && session.Receipt is { } receipt)
        {
            if (receipt.LastSaveSequence == lastSaveSequence) return new SubmitFinalCheckResponse { Receipt = receipt };
            throw new PreconditionFailedException("ALREADY_SUBMITTED", "sessions/" + session.SessionId,
                $"The answers were already validated with sequence {receipt.LastSaveSequence}; fetch the receipt with GetReceipt.");
        }
        throw new PreconditionFailedException("SESSION_CLOSED", "sessions/" + session.SessionId,
            $"The session has ended ({session.State}); its answers can no longer be validated.");
    }

    public override async Task<GetReceiptResponse> GetReceipt(GetReceiptRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var session = await access.ForReaderAsync(caller, request.SessionId);
        if (session.Receipt is null)
        {
            throw new PreconditionFailedException("NOT_SUBMITTED", "sessions/" + session.SessionId,
                "The answers of this session were not submitted: there is no receipt. Only the final check validates answers.");
        }
        return new GetReceiptResponse { Receipt = session.Receipt };
    }

    public override async Task<ListMySessionsResponse> ListMySessions(ListMySessionsRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        caller.RequireLearner();
        if (request.PageSize < 0 || request.PageSize > 500) throw new InvalidRequestException("page_size", "The page size is between 1 and 500 (0: 50).");
        var pageSize = request.PageSize == 0 ? 50 : request.PageSize;
        var scope = "learner|" + caller.Subject;
        var before = PageToken.Read(request.PageToken, scope);
        var members = await sessions.ReadLearnerSessionsAsync(caller.Subject, before, pageSize + 1);
        var page = members.Take(pageSize).ToList();
        var loaded = await Task.WhenAll(page.Select(m => sessions.GetAsync(SessionStore.ReviewMemberSession(m) ?? string.Empty)));
        var response = new ListMySessionsResponse
        {
            NextPageToken = members.Count > pageSize ? PageToken.Write(scope, page[^1]) : string.Empty,
        };
        // An id whose session is not there (a start cut short before its session was written, an erased one) is left out.
        foreach (var s in loaded)
        {
            if (s is null || s.LearnerId != caller.Subject) continue;
            response.Sessions.Add(new MySession { Session = s.ToProto(), ExamTitle = s.Exam.Title });
        }
        return response;
    }

    public override Task<ReportProblemResponse> ReportProblem(ReportProblemRequest request, ServerCallContext context) =>
        problems.ReportAsync(Caller.From(context), request);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} started for exam {ExamId}")]
    private static partial void LogStarted(ILogger logger, string sessionId, string examId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} submitted by the final check")]
    private static partial void LogSubmitted(ILogger logger, string sessionId);
}
