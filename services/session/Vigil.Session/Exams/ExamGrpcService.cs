using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.Session.Audit;
using Vigil.Session.Identity;
using Vigil.Session.Storage;

namespace Vigil.Session.Exams;

/// <summary>ExamService: course staff create and update their course's exams.</summary>
internal sealed class ExamGrpcService(ExamStore store, ExamAccess access, SessionStore sessions, IdentityGateway identity, AuditTrail audit, TimeProvider time) : ExamService.ExamServiceBase
{
    public override async Task<CreateExamResponse> CreateExam(CreateExamRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (string.IsNullOrWhiteSpace(request.RequestId)) throw new InvalidRequestException("request_id", "An idempotency key is required.");
        var violations = ExamValidator.Validate(request.Exam);
        if (violations.Count > 0) throw new InvalidRequestException(violations);
        caller.RequireStaffOf(request.Exam.CourseId);

        var examId = await store.BindCreateRequestAsync(caller.Subject + ":" + request.RequestId, "exam-" + Guid.NewGuid().ToString("N"));
        if (await store.GetAsync(examId) is { } existing) return new CreateExamResponse { Exam = existing };

        var exam = ExamValidator.WithDefaults(request.Exam);
        exam.ExamId = examId;
        exam.Version = 1;
        // Identity first: if it is unreachable nothing is stored and the retry starts over.
        await identity.ConfigureExamAsync(request.RequestId + ":v1", examId, exam.CourseId, exam.RoomScanRequired, context.CancellationToken);
        var entry = await audit.PrepareAsync(audit.Entry(caller, AuditTrail.StaffRole(caller, exam.CourseId), AuditActionKind.ExamCreated, exam.CourseId,
            $"exam created (version 1, {exam.Questions.Count} questions, {(ExamValidator.IsPractice(exam) ? "practice" : "certification")}, {exam.MaxAttempts} attempt(s))", examId), AuditPlace.Exam, examId);
        if (!await store.CreateAsync(exam, entry)) await audit.AbandonAsync(entry);
        return new CreateExamResponse { Exam = await store.GetAsync(examId) ?? exam };
    }

    public override async Task<UpdateExamResponse> UpdateExam(UpdateExamRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (string.IsNullOrWhiteSpace(request.RequestId)) throw new InvalidRequestException("request_id", "An idempotency key is required.");
        var current = await access.ForStaffAsync(caller, request.Exam?.ExamId ?? string.Empty, "exam.exam_id");
        var violations = ExamValidator.Validate(request.Exam);
        if (request.Exam!.CourseId != current.CourseId) violations.Add(("exam.course_id", "An exam cannot move to another course."));
        // The kind is set at the creation (UNSPECIFIED: unchanged): sessions already sent to the certificate service, or never, stay so.
        var currentKind = current.Kind == ExamKind.Unspecified ? ExamKind.Certification : current.Kind;
        if (request.Exam.Kind != ExamKind.Unspecified && request.Exam.Kind != currentKind)
        {
            violations.Add(("exam.kind", $"An exam's kind is set when it is created; this one is {currentKind}."));
        }
        if (violations.Count > 0) throw new InvalidRequestException(violations);

        var exam = ExamValidator.WithDefaults(request.Exam);
        exam.Kind = currentKind;
        exam.Version = request.ExpectedVersion + 1;
        await identity.ConfigureExamAsync(request.RequestId + ":v" + exam.Version, exam.ExamId, exam.CourseId, exam.RoomScanRequired, context.CancellationToken);
        var entry = await audit.PrepareAsync(audit.Entry(caller, AuditTrail.StaffRole(caller, exam.CourseId), AuditActionKind.ExamUpdated, exam.CourseId,
            $"exam changed: version {exam.Version} replaces version {request.ExpectedVersion} ({exam.Questions.Count} questions)", exam.ExamId), AuditPlace.Exam, exam.ExamId);
        var r = await store.UpdateAsync(exam, request.ExpectedVersion, caller.Subject + ":" + request.RequestId, entry);
        if (r.Status != ExamUpdateStatus.Updated) await audit.AbandonAsync(entry);
        return r.Status switch
        {
            ExamUpdateStatus.Updated or ExamUpdateStatus.Duplicate => new UpdateExamResponse { Exam = await store.GetAsync(exam.ExamId) },
            ExamUpdateStatus.VersionMismatch => throw new ConcurrentChangeException($"The exam is at version {r.Version}, not {request.ExpectedVersion}: someone changed it first. Read it again and retry."),
            _ => throw new ResourceNotFoundException("exam", exam.ExamId),
        };
    }

    public override async Task<GetExamResponse> GetExam(GetExamRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        return new GetExamResponse { Exam = await access.ForStaffAsync(caller, request.ExamId) };
    }

    public override async Task<ListExamsResponse> ListExams(ListExamsRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (string.IsNullOrWhiteSpace(request.CourseId)) throw new InvalidRequestException("course_id", "The course is required.");
        caller.RequireStaffOf(request.CourseId);
        var response = new ListExamsResponse();
        response.Exams.AddRange(await store.ListAsync(request.CourseId));
        return response;
    }

    public override async Task<GrantExtraTimeResponse> GrantExtraTime(GrantExtraTimeRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var violations = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.LearnerId)) violations.Add(("learner_id", "The learner is required."));
        if (request.ExtraTime is null || request.ExtraTime.ToTimeSpan() < TimeSpan.Zero || request.ExtraTime.ToTimeSpan() > TimeSpan.FromHours(24))
        {
            violations.Add(("extra_time", "The extra time is between 0 and 24 hours."));
        }
        if (string.IsNullOrWhiteSpace(request.Reason)) violations.Add(("reason", "The reason is required, for the record."));
        if (violations.Count > 0) throw new InvalidRequestException(violations);
        var exam = await access.ForStaffAsync(caller, request.ExamId);
        // The reason is not in the entry: it may say why a learner needs more time (health data); the entry says what and for whom.
        var entry = await audit.PrepareAsync(audit.Entry(caller, AuditTrail.StaffRole(caller, exam.CourseId), AuditActionKind.ExtraTimeGranted, exam.CourseId,
            $"extra time set to {FormatDuration(request.ExtraTime!.ToTimeSpan())}", exam.ExamId, learnerId: request.LearnerId), AuditPlace.Exam, exam.ExamId);
        await store.SetExtraTimeAsync(exam.ExamId, request.LearnerId, request.ExtraTime!.ToTimeSpan(), entry);
        // A session already running gets it too: its deadline moves (its next heartbeat reply shows the new time left).
        if (await sessions.GetClaimAsync(exam.ExamId, request.LearnerId) is { } sessionId)
        {
            await sessions.ExtendDeadlineAsync(sessionId, request.ExtraTime.ToTimeSpan());
        }
        return new GrantExtraTimeResponse { LearnerId = request.LearnerId, ExtraTime = Duration.FromTimeSpan(request.ExtraTime.ToTimeSpan()) };
    }

    public override async Task<GrantAllowanceResponse> GrantAllowance(GrantAllowanceRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        // Who first: someone who may not manage the exam learns nothing from how the request is refused.
        var exam = await access.ForStaffAsync(caller, request.ExamId);
        var violations = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.RequestId)) violations.Add(("request_id", "An idempotency key is required."));
        if (string.IsNullOrWhiteSpace(request.LearnerId)) violations.Add(("learner_id", "The learner is required."));
        if (request.TimeMultiplier != 0 && !(request.TimeMultiplier >= 1 && request.TimeMultiplier <= Allowances.MaxMultiplier))
        {
            violations.Add(("time_multiplier", $"The time multiplier is between 1 and {Allowances.MaxMultiplier} (0: 1)."));
        }
        if (request.GracePeriod is { } g && (g.ToTimeSpan() < TimeSpan.Zero || g.ToTimeSpan() > Allowances.MaxGrace))
        {
            violations.Add(("grace_period", "The grace period is between 0 and 2 hours."));
        }
        if (string.IsNullOrWhiteSpace(request.Reason)) violations.Add(("reason", "The reason is required, for the record."));
        else if (request.Reason.Length > 1000) violations.Add(("reason", "The reason is at most 1000 characters."));
        if (violations.Count > 0) throw new InvalidRequestException(violations);

        var allowance = new Allowance
        {
            LearnerId = request.LearnerId,
            TimeMultiplier = request.TimeMultiplier == 0 ? 1 : request.TimeMultiplier,
            GracePeriod = request.GracePeriod ?? Duration.FromTimeSpan(TimeSpan.Zero),
            AllowedRules = request.AllowedRules ?? new ExamRules(),
            Reason = request.Reason,
            GrantedBy = caller.Subject,
            GrantedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
        };
        // The reason stays out of the audit entry (it may be health data); the allowance itself keeps it for the staff.
        var entry = await audit.PrepareAsync(audit.Entry(caller, AuditTrail.StaffRole(caller, exam.CourseId), AuditActionKind.AllowanceGranted, exam.CourseId,
            Allowances.Summary(allowance), exam.ExamId, learnerId: request.LearnerId), AuditPlace.Exam, exam.ExamId);
        if (!await store.SetAllowanceAsync(exam.ExamId, allowance, caller.Subject + ":" + request.RequestId, entry))
        {
            await audit.AbandonAsync(entry);
            return new GrantAllowanceResponse { Allowance = await store.GetAllowanceAsync(exam.ExamId, request.LearnerId) ?? allowance };
        }
        // A session already running gets it too: its deadline, grace and headphones rule change now.
        if (await sessions.GetClaimAsync(exam.ExamId, request.LearnerId) is { } sessionId)
        {
            await sessions.ApplyAllowanceAsync(sessionId, allowance.TimeMultiplier, allowance.GracePeriod.ToTimeSpan(), allowance.AllowedRules.HeadphonesAllowed,
                await store.GetExtraTimeAsync(exam.ExamId, request.LearnerId));
        }
        return new GrantAllowanceResponse { Allowance = allowance };
    }

    public override async Task<GetAllowanceResponse> GetAllowance(GetAllowanceRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var exam = await access.ForStaffAsync(caller, request.ExamId);
        if (string.IsNullOrWhiteSpace(request.LearnerId)) throw new InvalidRequestException("learner_id", "The learner is required.");
        return new GetAllowanceResponse
        {
            Allowance = await store.GetAllowanceAsync(exam.ExamId, request.LearnerId) ?? throw new ResourceNotFoundException("allowance", $"{exam.ExamId}/{request.LearnerId}"),
        };
    }

    public override async Task<ResetAttemptResponse> ResetAttempt(ResetAttemptRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var exam = await access.ForStaffAsync(caller, request.ExamId);
        var violations = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.RequestId)) violations.Add(("request_id", "An idempotency key is required."));
        if (string.IsNullOrWhiteSpace(request.LearnerId)) violations.Add(("learner_id", "The learner is required."));
        if (string.IsNullOrWhiteSpace(request.Reason)) violations.Add(("reason", "The reason is required, for the record."));
        else if (request.Reason.Length > 1000) violations.Add(("reason", "The reason is at most 1000 characters."));
        if (violations.Count > 0) throw new InvalidRequestException(violations);
        var requestKey = caller.Subject + ":" + request.RequestId;
        // The attempt a retry names is the one the request was bound to (the claim is released by then).
        var sessionId = await store.ResetRequestAsync(exam.ExamId, requestKey) ?? await sessions.GetClaimAsync(exam.ExamId, request.LearnerId);
        var session = sessionId is null ? null : await sessions.GetAsync(sessionId);
        if (session is null || session.LearnerId != request.LearnerId || session.ExamId != exam.ExamId)
        {
            throw new ResourceNotFoundException("attempt", $"{exam.ExamId}/{request.LearnerId}");
        }
        if (!session.IsFinished)
        {
            throw new PreconditionFailedException("SESSION_IN_PROGRESS", "sessions/" + session.SessionId, "The attempt is still in progress: reset it once it has ended.");
        }
        sessionId = await store.BindResetRequestAsync(exam.ExamId, requestKey, session.SessionId);
        var entry = await audit.PrepareAsync(audit.Entry(caller, AuditTrail.StaffRole(caller, exam.CourseId), AuditActionKind.AttemptReset, exam.CourseId,
            $"attempt reset (the session was {session.State.ToString().ToLowerInvariant()})", exam.ExamId, sessionId), AuditPlace.Session, sessionId);
        // Whole milliseconds, as stored: the first answer and a retry's are the same.
        var now = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
        var reply = await sessions.ResetAttemptAsync(sessionId, caller.Subject, now, request.Reason, entry);
        if (reply.Status != ResetStatus.Reset) await audit.AbandonAsync(entry);
        if (reply.Status is ResetStatus.InProgress)
        {
            throw new PreconditionFailedException("SESSION_IN_PROGRESS", "sessions/" + sessionId, "The attempt is still in progress: reset it once it has ended.");
        }
        if (reply.Status is ResetStatus.Missing) throw new ResourceNotFoundException("attempt", $"{exam.ExamId}/{request.LearnerId}");
        // Marked first, then the attempt is given back (it no longer counts against max_attempts; the claim still names
        // it, so the next start finds it ended): a crash in between is finished by a retry, or by that start.
        await sessions.GiveBackAttemptAsync(exam.ExamId, request.LearnerId, sessionId);
        return new ResetAttemptResponse { SessionId = sessionId, ResetAt = Timestamp.FromDateTimeOffset(reply.At), ResetBy = reply.By };
    }

    private static string FormatDuration(TimeSpan t) => t.TotalMinutes == Math.Floor(t.TotalMinutes)
        ? $"{(long)t.TotalMinutes} min"
        : $"{t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} s";
}
