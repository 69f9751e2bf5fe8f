using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.Session.Answers;
using Vigil.Session.Audit;
using Vigil.Session.Exams;
using Vigil.Session.Identity;
using Vigil.Session.Paging;
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
    AuditTrail audit,
    TimeProvider time,
    ILogger<ExamBoardGrpcService> logger) : ExamBoardService.ExamBoardServiceBase
{
    public override async Task<ListSessionsForReviewResponse> ListSessionsForReview(ListSessionsForReviewRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (string.IsNullOrWhiteSpace(request.CourseId)) throw new InvalidRequestException("course_id", "The course is required.");
        caller.RequireBoardOf(request.CourseId);
        if (request.PageSize < 0 || request.PageSize > 500) throw new InvalidRequestException("page_size", "The page size is between 1 and 500 (0: 50).");
        var filter = request.Filter;
        if (request.AwaitingDecisionOnly)
        {
            if (filter is not (ReviewFilter.Unspecified or ReviewFilter.AwaitingDecision))
            {
                throw new InvalidRequestException("awaiting_decision_only", "awaiting_decision_only is the filter REVIEW_FILTER_AWAITING_DECISION: set one filter.");
            }
            filter = ReviewFilter.AwaitingDecision;
        }
        var scope = $"review|{(int)filter}|{request.CourseId}";
        var after = PageToken.Read(request.PageToken, scope);
        var pageSize = request.PageSize == 0 ? 50 : request.PageSize;

        // One more than the page: whether the list goes on. Memory and work per page are bounded by the page size.
        var members = await sessions.ReadReviewSetAsync(request.CourseId, filter, after, pageSize + 1);
        var page = members.Take(pageSize).ToList();
        var ids = page.Select(m => SessionStore.ReviewMemberSession(m) ?? string.Empty).ToList();
        var loaded = await Task.WhenAll(ids.Select(sessions.GetAsync));
        // A session whose learner's data was erased stays on the list as what is left of it (privacy.md).
        var erased = await Task.WhenAll(ids.Select((id, i) => loaded[i] is null ? sessions.GetErasedAsync(id) : Task.FromResult<ErasedSession?>(null)));
        var incidents = await Task.WhenAll(loaded.Select(s => s is null ? Task.FromResult(0L) : sessions.CountIncidentsAsync(s.SessionId)));
        var response = new ListSessionsForReviewResponse
        {
            NextPageToken = members.Count > pageSize ? PageToken.Write(scope, page[^1]) : string.Empty,
        };
        for (var i = 0; i < page.Count; i++)
        {
            if (erased[i] is { } gone && gone.CourseId == request.CourseId)
            {
                // What is left: the state and the decisions. Listed among all and the decided; never again awaiting a
                // decision, with incidents or an exception (that data is gone), so it leaves those lists for good.
                if (filter == ReviewFilter.Unspecified || (filter == ReviewFilter.Decided && gone.Record.Decisions.Count > 0))
                {
                    response.Sessions.Add(new ReviewSummary
                    {
                        Session = gone.Record.Session.Clone(),
                        ExamTitle = gone.Record.ExamTitle,
                        LatestDecision = gone.Record.Decisions.LastOrDefault(),
                        ErasedAt = gone.Record.ErasedAt,
                    });
                }
                else if (filter != ReviewFilter.Decided)
                {
                    await sessions.DropFromReviewSetAsync(request.CourseId, filter, page[i]);
                }
                continue;
            }
            var s = loaded[i];
            // Every entry is checked against the session itself: the index may be ahead of it (an entry written before
            // the change that makes its rule hold) or behind it (a session decided since, or purged).
            var facts = s is null || s.CourseId != request.CourseId
                ? null
                : SessionStore.Facts(s, incidents[i]);
            if (facts is null || !ReviewFilters.Holds(filter, facts))
            {
                if ((facts is null && erased[i] is null) || (facts is not null && !ReviewFilters.Monotonic(filter) && !ReviewFilters.CanHoldAgain(filter) && facts.Finished))
                {
                    await sessions.DropFromReviewSetAsync(request.CourseId, filter, page[i]);
                }
                continue;
            }
            var decisions = s!.DecisionVersion > 0 ? await sessions.GetDecisionsAsync(s.SessionId) : [];
            var secondLook = s.SecondLookBy is not null ? (await sessions.GetSecondLooksAsync(s.SessionId)).LastOrDefault() : null;
            response.Sessions.Add(new ReviewSummary
            {
                Session = s.ToProto(),
                ExamTitle = s.Exam.Title,
                Score = s.Score,
                MaxScore = AnswerRules.MaxScore(s.Exam),
                IncidentCount = (int)incidents[i],
                LatestDecision = decisions.LastOrDefault(),
                ProblemReportCount = (int)s.ProblemReports,
                SecondLook = secondLook,
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
        foreach (var (kind, pinned) in new[] { (ReviewPhotoKind.IdDocument, session.IdDocumentPhoto), (ReviewPhotoKind.Face, session.FacePhoto) })
        {
            if (pinned is null) continue;
            record.PinnedPhotos.Add(new PinnedPhoto { PhotoId = pinned.PhotoId, Kind = kind, Sha256 = pinned.Sha256, TakenAt = Timestamp.FromDateTimeOffset(pinned.TakenAt) });
        }
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
        record.SecondLooks.AddRange(await sessions.GetSecondLooksAsync(session.SessionId));
        return new GetSessionRecordResponse { Record = record };
    }

    private static string DefaultDetails(IncidentKind kind) => kind switch
    {
        IncidentKind.Headphones => "Headphones or earphones reported by the client where the exam does not allow them.",
        IncidentKind.CameraOff => "The camera was reported off.",
        IncidentKind.ScreenShareStopped => "Screen sharing was reported stopped.",
        IncidentKind.FocusLost => "The exam window was reported without the focus.",
        IncidentKind.MicrophoneOff => "The microphone was reported off.",
        IncidentKind.ProblemReported => "The learner reported a technical problem.",
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
        // The photo pinned at the start; sessions started before pinning fall back to the photo identity holds now.
        var pinned = kind == PhotoKind.IdDocument ? session.IdDocumentPhoto : session.FacePhoto;
        var photo = await identity.GetPhotoAsync(session.LearnerId, session.ExamId, kind, pinned?.PhotoId, context.CancellationToken)
            ?? throw new ResourceNotFoundException("photo", $"{session.SessionId}/{request.Kind}");
        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(photo.Data.Span));
        if (pinned is not null && sha256 != pinned.Sha256)
        {
            LogEvidenceMismatch(logger, session.SessionId, request.Kind);
            throw new StoredDataUnreadableException("The photo identity returned is not the one pinned to this session (its digest differs).");
        }
        return new GetReviewPhotoResponse { ContentType = photo.ContentType, Data = photo.Data, TakenAt = photo.TakenAt, PhotoId = photo.PhotoId, Sha256 = sha256 };
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
        if (ExamValidator.IsPractice(session.Exam))
        {
            throw new PreconditionFailedException("PRACTICE_SESSION", "sessions/" + session.SessionId,
                "This session is of a practice exam: it certifies nothing and the board records no decision on it.");
        }

        for (var attempt = 0; attempt < 3; attempt++)
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
            // An open second look, as read: the decision of another member closes it in the same script.
            var looks = session.SecondLookBy is not null ? await sessions.GetSecondLooksAsync(session.SessionId) : [];
            var closing = looks.Count > 0 && looks[^1].ClosedAt is null ? looks[^1].Clone() : null;
            if (closing is not null)
            {
                closing.ClosedBy = caller.Subject;
                closing.ClosedAt = decision.DecidedAt;
                closing.ClosedByVersion = decision.Version;
            }
            // In the "decided" list before the decision (readers skip it until the decision is there), out of "awaiting"
            // (and "second look") after it: a crash at any point leaves the lists right as readers see them.
            await sessions.PreIndexForReviewAsync(session, ReviewFilter.Decided);
            var entry = await audit.PrepareAsync(audit.Entry(caller, AuditActorRole.Board, AuditActionKind.DecisionRecorded, session.CourseId,
                DecisionSummary(decision, closing is not null), session.ExamId, session.SessionId), AuditPlace.Session, session.SessionId);
            var reply = await sessions.DecideAsync(session.SessionId, requestKey, request.ExpectedVersion, decision, evt, now, looks.Count, closing, entry);
            if (reply.Status != DecisionStatus.Recorded) await audit.AbandonAsync(entry);
            switch (reply.Status)
            {
                case DecisionStatus.Recorded:
                    await sessions.IndexForReviewAsync(session.SessionId);
                    LogDecision(logger, session.SessionId, decision.Version, request.Outcome);
                    return new RecordDecisionResponse { Decision = decision };
                case DecisionStatus.Duplicate:
                    return new RecordDecisionResponse { Decision = (await sessions.GetDecisionsAsync(session.SessionId)).First(d => d.Version == reply.Version) };
                case DecisionStatus.VersionMismatch:
                    throw new ConcurrentChangeException($"The latest decision is version {reply.Version}, not {request.ExpectedVersion}: read the record again, then decide.");
                case DecisionStatus.InProgress:
                case DecisionStatus.SecondLookChanged:
                    session = await sessions.GetAsync(session.SessionId) ?? session;
                    continue;
                case DecisionStatus.SameMember:
                    throw new PreconditionFailedException("SECOND_LOOK_NEEDS_ANOTHER_MEMBER", "sessions/" + session.SessionId,
                        "You asked for a second look at this session: a decision by another member of the board closes it.");
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
        // The exception answers a problem the learner reported (ReportProblem). Callers written before reports existed
        // send no problem_report_id: they are refused, naming the field, rather than granted an exception nobody reported.
        if (string.IsNullOrWhiteSpace(request.ProblemReportId))
        {
            throw new PreconditionFailedException("PROBLEM_REPORT_REQUIRED", "problem_report_id",
                "problem_report_id is required: cite the learner's problem report (ReportProblem) that this exception answers. "
                + "The learner reports the problem during the exam or within the reporting window after it.");
        }
        if (session.State == SessionState.SubmittedByException) return Accepted(session);
        if (session.State != SessionState.ExpiredUnsubmitted)
        {
            throw new PreconditionFailedException("NOT_EXPIRED_UNSUBMITTED", "sessions/" + session.SessionId,
                $"Only an expired session whose answers were not submitted can be accepted by exception; this one is {session.State}.");
        }
        if (await sessions.GetProblemReportAsync(session.SessionId, request.ProblemReportId) is null)
        {
            throw new PreconditionFailedException("PROBLEM_REPORT_NOT_FOUND", "problem_report_id",
                $"problem_report_id '{request.ProblemReportId}' is not a problem report of session {session.SessionId}: cite one of the "
                + "PROBLEM_REPORTED incidents of its record.");
        }
        var exception = new SubmissionException
        {
            Reason = request.Reason,
            FailureReference = request.FailureReference,
            GrantedBy = caller.Subject,
            GrantedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
            ProblemReportId = request.ProblemReportId,
        };
        // In the "with an exception" list before the exception is granted (readers skip it until then).
        await sessions.PreIndexForReviewAsync(session, ReviewFilter.WithException);
        var entry = await audit.PrepareAsync(audit.Entry(caller, AuditActorRole.Board, AuditActionKind.SavedAnswersAccepted, session.CourseId,
            $"saved answers accepted by exception, citing problem report {request.ProblemReportId}", session.ExamId, session.SessionId),
            AuditPlace.Session, session.SessionId);
        var result = await finisher.AcceptSavedAnswersAsync(session.SessionId, exception, request.RequestId, entry);
        if (result.Outcome != FinishOutcome.Done) await audit.AbandonAsync(entry);
        if (result.Outcome is FinishOutcome.Done or FinishOutcome.AlreadyFinished && result.Session?.State == SessionState.SubmittedByException)
        {
            LogException(logger, session.SessionId, caller.Subject);
            return Accepted(result.Session);
        }
        throw new PreconditionFailedException("NOT_EXPIRED_UNSUBMITTED", "sessions/" + session.SessionId,
            "Only an expired session whose answers were not submitted can be accepted by exception.");
    }

    public override async Task<RequestSecondLookResponse> RequestSecondLook(RequestSecondLookRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var violations = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.RequestId)) violations.Add(("request_id", "An idempotency key is required."));
        if (request.Notes.Length > 4000) violations.Add(("notes", "The notes are at most 4000 characters."));
        if (violations.Count > 0) throw new InvalidRequestException(violations);
        var session = await access.ForBoardAsync(caller, request.SessionId);
        if (!session.IsFinished)
        {
            throw new PreconditionFailedException("SESSION_IN_PROGRESS", "sessions/" + session.SessionId, "The session is still in progress: ask for a second look once it has ended.");
        }
        var entry = new SecondLook
        {
            RequestedBy = caller.Subject,
            RequestedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
            Notes = request.Notes,
            RequestedAtVersion = session.DecisionVersion,
        };
        // In the "second look" list before the script (readers skip it until the second look is open).
        await sessions.PreIndexForReviewAsync(session, ReviewFilter.SecondLook);
        var auditEntry = await audit.PrepareAsync(audit.Entry(caller, AuditActorRole.Board, AuditActionKind.SecondLookRequested, session.CourseId,
            $"second look requested at decision version {session.DecisionVersion}", session.ExamId, session.SessionId), AuditPlace.Session, session.SessionId);
        var reply = await sessions.RequestSecondLookAsync(session.SessionId, "second-look:" + caller.Subject + ":" + request.RequestId, entry, auditEntry);
        if (reply.Status != SecondLookStatus.Recorded) await audit.AbandonAsync(auditEntry);
        switch (reply.Status)
        {
            case SecondLookStatus.Recorded:
                await sessions.IndexForReviewAsync(session.SessionId);
                LogSecondLook(logger, session.SessionId, caller.Subject);
                return new RequestSecondLookResponse { SecondLook = entry };
            case SecondLookStatus.Duplicate:
                var looks = await sessions.GetSecondLooksAsync(session.SessionId);
                return new RequestSecondLookResponse { SecondLook = looks[(int)reply.Position - 1] };
            case SecondLookStatus.AlreadyOpen:
                throw new PreconditionFailedException("SECOND_LOOK_OPEN", "sessions/" + session.SessionId,
                    $"A second look asked by {reply.OpenBy} is open: a decision by another member closes it before another can be asked.");
            case SecondLookStatus.InProgress:
                throw new PreconditionFailedException("SESSION_IN_PROGRESS", "sessions/" + session.SessionId, "The session is still in progress: ask for a second look once it has ended.");
            default:
                throw new ResourceNotFoundException("session", session.SessionId);
        }
    }

    public override async Task<GetDecisionHistoryResponse> GetDecisionHistory(GetDecisionHistoryRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (await access.ErasedForBoardAsync(caller, request.SessionId) is { } erased)
        {
            return new GetDecisionHistoryResponse { Decisions = { erased.Record.Decisions }, ErasedAt = erased.Record.ErasedAt };
        }
        var session = await access.ForBoardAsync(caller, request.SessionId);
        var response = new GetDecisionHistoryResponse();
        response.Decisions.AddRange(await sessions.GetDecisionsAsync(session.SessionId));
        response.SecondLooks.AddRange(await sessions.GetSecondLooksAsync(session.SessionId));
        return response;
    }

    public override async Task<ListAuditEntriesResponse> ListAuditEntries(ListAuditEntriesRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (string.IsNullOrWhiteSpace(request.CourseId)) throw new InvalidRequestException("course_id", "The course is required.");
        if (!caller.IsOps && !caller.IsBoardOf(request.CourseId))
        {
            throw new AccessDeniedException("A course's audit trail is read only by its exam board and by platform operations.");
        }
        var violations = new List<(string, string)>();
        if (request.PageSize < 0 || request.PageSize > 500) violations.Add(("page_size", "The page size is between 1 and 500 (0: 50)."));
        if (request.Kinds.Any(k => k == AuditActionKind.Unspecified || !System.Enum.IsDefined(k))) violations.Add(("kinds", "Name kinds of action the trail records."));
        if (request.From is not null && request.To is not null && request.To.ToDateTimeOffset() <= request.From.ToDateTimeOffset())
        {
            violations.Add(("to", "The end of the time range is after its start."));
        }
        if (violations.Count > 0) throw new InvalidRequestException(violations);
        var kinds = request.Kinds.ToHashSet();
        var scope = $"audit|{request.CourseId}|{string.Join(',', kinds.Order().Select(k => (int)k))}|{request.From?.ToDateTimeOffset().ToUnixTimeMilliseconds()}|{request.To?.ToDateTimeOffset().ToUnixTimeMilliseconds()}";
        var after = PageToken.Read(request.PageToken, scope, AuditTrail.IsMember);
        var pageSize = request.PageSize == 0 ? 50 : request.PageSize;
        var page = await audit.ReadAsync(request.CourseId, after, request.From?.ToDateTimeOffset(), request.To?.ToDateTimeOffset(), kinds, pageSize,
            scanLimit: Math.Max(500, 10 * pageSize));
        var response = new ListAuditEntriesResponse { NextPageToken = page.ContinueAfter is { } c ? PageToken.Write(scope, c) : string.Empty };
        response.Entries.AddRange(page.Entries);
        return response;
    }

    /// <summary>The audit summary of a decision: version, outcome and reason code, never the notes.</summary>
    private static string DecisionSummary(BoardDecision d, bool closesSecondLook) =>
        $"decision v{d.Version}: {d.Outcome.ToString().ToLowerInvariant()}"
        + (d.Reason == RefusalReason.Unspecified ? string.Empty : $" ({ReasonCode(d.Reason)})")
        + (closesSecondLook ? ", closing the open second look" : string.Empty);

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

    [LoggerMessage(Level = LogLevel.Error, Message = "The {Kind} photo identity returned for session {SessionId} does not match the digest pinned at its start")]
    private static partial void LogEvidenceMismatch(ILogger logger, string sessionId, ReviewPhotoKind kind);

    [LoggerMessage(Level = LogLevel.Information, Message = "Second look asked on session {SessionId} by {RequestedBy}")]
    private static partial void LogSecondLook(ILogger logger, string sessionId, string requestedBy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saved answers of session {SessionId} accepted by exception, granted by {GrantedBy}")]
    private static partial void LogException(ILogger logger, string sessionId, string grantedBy);
}
