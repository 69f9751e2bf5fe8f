using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.Session.Answers;
using Vigil.Session.Identity;
using Vigil.Session.Sessions;
using Vigil.Session.Storage;
using Events = Vigil.Contracts.Events;

namespace Vigil.Session.Review;

/// <summary>ExamBoardService: the board of a course reviews its finished sessions and records decisions, each an event through the outbox.</summary>
internal sealed partial class ExamBoardGrpcService(
    SessionStore sessions,
    SessionFinisher finisher,
    SessionAccess access,
    IdentityGateway identity,
    TimeProvider time,
    ILogger<ExamBoardGrpcService> logger) : ExamBoardService.ExamBoardServiceBase
{
    public override async Task<ListSessionsForReviewResponse> ListSessionsForReview(ListSessionsForReviewRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (string.IsNullOrWhiteSpace(request.CourseId)) throw new InvalidRequestException("course_id", "The course is required.");
        caller.RequireBoardOf(request.CourseId);
        if (request.PageSize < 0 || request.PageSize > 500) throw new InvalidRequestException("page_size", "The page size is between 1 and 500 (0: 50).");
        var offset = 0;
        if (request.PageToken.Length > 0 && (!int.TryParse(request.PageToken, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out offset) || offset < 0))
        {
            throw new InvalidRequestException("page_token", "Use the next_page_token of the previous page.");
        }
        var pageSize = request.PageSize == 0 ? 50 : request.PageSize;

        var ids = await sessions.ListCourseSessionsAsync(request.CourseId);
        var loaded = await Task.WhenAll(ids.Select(sessions.GetAsync));
        // Sessions whose learner's data was erased stay on the list as what is left of them (never awaiting a decision).
        var erased = request.AwaitingDecisionOnly
            ? []
            : (await Task.WhenAll(ids.Where((_, i) => loaded[i] is null).Select(sessions.GetErasedAsync)))
                .Where(e => e is not null && e.CourseId == request.CourseId).Select(e => e!).ToList();
        var finished = loaded
            .Where(s => s is not null && s.IsFinished && s.CourseId == request.CourseId)
            .Select(s => s!)
            .Where(s => !request.AwaitingDecisionOnly || s.DecisionVersion == 0)
            .Select(s => (Live: (SessionData?)s, Erased: (ErasedSession?)null, Decided: s.DecisionVersion > 0, At: s.FinishedAt ?? s.Deadline, s.SessionId))
            .Concat(erased.Select(e => (Live: (SessionData?)null, Erased: (ErasedSession?)e, Decided: true, At: e.Record.Session.SubmittedAt?.ToDateTimeOffset() ?? e.Deadline, e.SessionId)))
            .OrderBy(s => s.Decided ? 1 : 0)
            .ThenBy(s => s.At)
            .ThenBy(s => s.SessionId, StringComparer.Ordinal)
            .ToList();
        var page = finished.Skip(offset).Take(pageSize).ToList();
        var response = new ListSessionsForReviewResponse
        {
            NextPageToken = offset + page.Count < finished.Count ? (offset + page.Count).ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Empty,
        };
        foreach (var (live, gone, _, _, _) in page)
        {
            if (live is not { } s)
            {
                response.Sessions.Add(new ReviewSummary
                {
                    Session = gone!.Record.Session.Clone(),
                    ExamTitle = gone.Record.ExamTitle,
                    LatestDecision = gone.Record.Decisions.LastOrDefault(),
                    ErasedAt = gone.Record.ErasedAt,
                });
                continue;
            }
            var decisions = s.DecisionVersion > 0 ? await sessions.GetDecisionsAsync(s.SessionId) : [];
            response.Sessions.Add(new ReviewSummary
            {
                Session = s.ToProto(),
                ExamTitle = s.Exam.Title,
                Score = s.Score,
                MaxScore = AnswerRules.MaxScore(s.Exam),
                IncidentCount = (int)await sessions.CountIncidentsAsync(s.SessionId),
                LatestDecision = decisions.LastOrDefault(),
            });
        }
        return response;
    }

    public override async Task<GetSessionRecordResponse> GetSessionRecord(GetSessionRecordRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (await access.ErasedForBoardAsync(caller, request.SessionId) is { } erased) return new GetSessionRecordResponse { Record = erased.Record };
        var session = await access.ForBoardAsync(caller, request.SessionId);
        var answers = await sessions.GetAnswersAsync(session.SessionId);
        var record = new SessionRecord
        {
            Session = session.ToProto(),
            ExamTitle = session.Exam.Title,
            Score = session.Score,
            MaxScore = AnswerRules.MaxScore(session.Exam),
            PassMark = session.Exam.PassMark,
            IdDocumentPhotoAccepted = session.IdDocumentPhotoAccepted,
            FacePhotoAccepted = session.FacePhotoAccepted,
            Exception = session.Exception,
            Receipt = session.Receipt,
        };
        foreach (var q in session.Exam.Questions)
        {
            answers.TryGetValue(q.QuestionId, out var a);
            var points = AnswerRules.Mark(q, a?.Answer);
            record.Answers.Add(new RecordedAnswer
            {
                QuestionId = q.QuestionId,
                Answer = a?.Answer,
                Sequence = a?.Sequence ?? 0,
                SavedAt = a is null ? null : Timestamp.FromDateTimeOffset(a.SavedAt),
                AnswerDigest = a?.Digest ?? string.Empty,
                PointsAwarded = points ?? 0,
                AutoMarked = points.HasValue,
            });
        }
        foreach (var incident in await sessions.GetIncidentsAsync(session.SessionId))
        {
            if (incident.Details.Length == 0) incident.Details = DefaultDetails(incident.Kind);
            record.Incidents.Add(incident);
        }
        record.Decisions.AddRange(await sessions.GetDecisionsAsync(session.SessionId));
        return new GetSessionRecordResponse { Record = record };
    }

    private static string DefaultDetails(IncidentKind kind) => kind switch
    {
        IncidentKind.Headphones => "Headphones or earphones reported by the client where the exam does not allow them.",
        IncidentKind.CameraOff => "The camera was reported off.",
        IncidentKind.ScreenShareStopped => "Screen sharing was reported stopped.",
        IncidentKind.FocusLost => "The exam window was reported without the focus.",
        IncidentKind.MicrophoneOff => "The microphone was reported off.",
        _ => string.Empty,
    };

    public override async Task<GetReviewPhotoResponse> GetReviewPhoto(GetReviewPhotoRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var kind = request.Kind switch
        {
            ReviewPhotoKind.IdDocument => PhotoKind.IdDocument,
            ReviewPhotoKind.Face => PhotoKind.Face,
            _ => throw new InvalidRequestException("kind", "Name the photo: ID document or face."),
        };
        var session = await access.ForBoardAsync(caller, request.SessionId);
        var photo = await identity.GetPhotoAsync(session.LearnerId, session.ExamId, kind, context.CancellationToken)
            ?? throw new ResourceNotFoundException("photo", $"{session.SessionId}/{request.Kind}");
        return new GetReviewPhotoResponse { ContentType = photo.ContentType, Data = photo.Data, TakenAt = photo.TakenAt };
    }

    public override async Task<RecordDecisionResponse> RecordDecision(RecordDecisionRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var violations = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.RequestId)) violations.Add(("request_id", "An idempotency key is required."));
        if (request.Outcome == DecisionOutcome.Unspecified || !System.Enum.IsDefined(request.Outcome)) violations.Add(("outcome", "The outcome is valid, refused or withdrawn."));
        if (!System.Enum.IsDefined(request.Reason)) violations.Add(("reason", "Unknown reason."));
        else if (request.Outcome == DecisionOutcome.Valid && request.Reason != RefusalReason.Unspecified) violations.Add(("reason", "A valid decision has no reason."));
        else if (request.Outcome is DecisionOutcome.Refused or DecisionOutcome.Withdrawn && request.Reason == RefusalReason.Unspecified)
        {
            violations.Add(("reason", "A refusal or a withdrawal needs a reason from the list."));
        }
        if (request.Notes.Length > 4000) violations.Add(("notes", "The notes are at most 4000 characters."));
        if (request.ExpectedVersion < 0) violations.Add(("expected_version", "The version is zero or more."));
        if (violations.Count > 0) throw new InvalidRequestException(violations);
        var session = await access.ForBoardAsync(caller, request.SessionId);
        var requestKey = "decision:" + caller.Subject + ":" + request.RequestId;

        for (var attempt = 0; attempt < 2; attempt++)
        {
            if (!session.IsFinished)
            {
                throw new PreconditionFailedException("SESSION_IN_PROGRESS", "sessions/" + session.SessionId, "The session is still in progress: decide once it has ended.");
            }
            // Only a withdrawal needs the decisions so far (the script checks the version for every outcome).
            if (request.Outcome == DecisionOutcome.Withdrawn
                && (await sessions.GetDecisionsAsync(session.SessionId)).LastOrDefault()?.Outcome != DecisionOutcome.Valid)
            {
                throw new PreconditionFailedException("NOTHING_TO_WITHDRAW", "sessions/" + session.SessionId,
                    "Only a session whose decision in force is valid can be withdrawn.");
            }
            var now = time.GetUtcNow();
            var decision = new BoardDecision
            {
                Version = request.ExpectedVersion + 1,
                Outcome = request.Outcome,
                Reason = request.Reason,
                Notes = request.Notes,
                DecidedBy = caller.Subject,
                DecidedAt = Timestamp.FromDateTimeOffset(now),
            };
            var evt = new Events.BoardDecisionRecorded
            {
                EventId = Guid.NewGuid(),
                SessionId = session.SessionId,
                ExamId = session.ExamId,
                CourseId = session.CourseId,
                LearnerId = session.LearnerId,
                Version = decision.Version,
                Outcome = (Events.DecisionOutcome)(int)request.Outcome,
                ReasonCode = request.Reason == RefusalReason.Unspecified ? string.Empty : ReasonCode(request.Reason),
                ReasonText = ReasonText(request.Reason, request.Notes),
                DecidedBy = caller.Subject,
                DecidedAt = now,
            };
            var reply = await sessions.DecideAsync(session.SessionId, requestKey, request.ExpectedVersion, decision, evt, now);
            switch (reply.Status)
            {
                case DecisionStatus.Recorded:
                    LogDecision(logger, session.SessionId, decision.Version, request.Outcome);
                    return new RecordDecisionResponse { Decision = decision };
                case DecisionStatus.Duplicate:
                    return new RecordDecisionResponse { Decision = (await sessions.GetDecisionsAsync(session.SessionId)).First(d => d.Version == reply.Version) };
                case DecisionStatus.VersionMismatch:
                    throw new ConcurrentChangeException($"The latest decision is version {reply.Version}, not {request.ExpectedVersion}: read the record again, then decide.");
                case DecisionStatus.InProgress:
                    session = await sessions.GetAsync(session.SessionId) ?? session;
                    continue;
                default:
                    throw new ResourceNotFoundException("session", session.SessionId);
            }
        }
        throw new ConcurrentChangeException("The session changed while the decision was being recorded; retry.");
    }

    public override async Task<AcceptSavedAnswersResponse> AcceptSavedAnswers(AcceptSavedAnswersRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var violations = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.RequestId)) violations.Add(("request_id", "An idempotency key is required."));
        if (string.IsNullOrWhiteSpace(request.Reason)) violations.Add(("reason", "Describe the documented technical failure."));
        if (string.IsNullOrWhiteSpace(request.FailureReference)) violations.Add(("failure_reference", "Give the reference of the documented failure (ticket, incident id)."));
        if (violations.Count > 0) throw new InvalidRequestException(violations);
        var session = await access.ForBoardAsync(caller, request.SessionId);
        if (session.State == SessionState.SubmittedByException) return Accepted(session);
        if (session.State != SessionState.ExpiredUnsubmitted)
        {
            throw new PreconditionFailedException("NOT_EXPIRED_UNSUBMITTED", "sessions/" + session.SessionId,
                $"Only an expired session whose answers were not submitted can be accepted by exception; this one is {session.State}.");
        }
        var exception = new SubmissionException
        {
            Reason = request.Reason,
            FailureReference = request.FailureReference,
            GrantedBy = caller.Subject,
            GrantedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
        };
        var result = await finisher.AcceptSavedAnswersAsync(session.SessionId, exception, request.RequestId);
        if (result.Outcome is FinishOutcome.Done or FinishOutcome.AlreadyFinished && result.Session?.State == SessionState.SubmittedByException)
        {
            LogException(logger, session.SessionId, caller.Subject);
            return Accepted(result.Session);
        }
        throw new PreconditionFailedException("NOT_EXPIRED_UNSUBMITTED", "sessions/" + session.SessionId,
            "Only an expired session whose answers were not submitted can be accepted by exception.");
    }

    private static AcceptSavedAnswersResponse Accepted(SessionData s) =>
        new() { Session = s.ToProto(), Receipt = s.Receipt, Exception = s.Exception };

    /// <summary>The contract's value name of a reason, e.g. "REFUSAL_REASON_HEADPHONES".</summary>
    internal static string ReasonCode(RefusalReason reason) =>
        ReviewReflection.Descriptor.EnumTypes.First(e => e.Name == nameof(RefusalReason)).FindValueByNumber((int)reason)?.Name ?? reason.ToString();

    internal static string ReasonText(RefusalReason reason, string notes)
    {
        var text = reason switch
        {
            RefusalReason.Unspecified => string.Empty,
            RefusalReason.NoIdDocumentPhoto => "There is no photo of your ID document: your identity could not be confirmed.",
            RefusalReason.IdentityMismatch => "The person in the exam is not the person on the ID document.",
            RefusalReason.Headphones => "Headphones or earphones were worn where they were not allowed.",
            RefusalReason.Internet => "The Internet was used where it was not allowed.",
            RefusalReason.OtherApplications => "Other applications were used where they were not allowed.",
            RefusalReason.Documents => "Manuals, books or documents were used where they were not allowed.",
            RefusalReason.Calculator => "A calculator was used where it was not allowed.",
            RefusalReason.PenAndPaper => "A pen and paper were used where they were not allowed.",
            RefusalReason.ThirdPartyAssistance => "Someone else helped during the exam.",
            RefusalReason.Camera => "You left the camera's view, or the camera was off.",
            RefusalReason.OtherRuleViolation => "The examination regulations or the conditions of use were not respected.",
            _ => reason.ToString(),
        };
        return notes.Length == 0 ? text : (text.Length == 0 ? notes : text + " " + notes);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Board decision {Version} ({Outcome}) recorded on session {SessionId}")]
    private static partial void LogDecision(ILogger logger, string sessionId, long version, DecisionOutcome outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saved answers of session {SessionId} accepted by exception, granted by {GrantedBy}")]
    private static partial void LogException(ILogger logger, string sessionId, string grantedBy);
}
