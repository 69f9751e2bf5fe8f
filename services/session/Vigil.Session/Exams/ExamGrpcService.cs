using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.Session.Identity;
using Vigil.Session.Storage;

namespace Vigil.Session.Exams;

/// <summary>ExamService: course staff create and update their course's exams.</summary>
internal sealed class ExamGrpcService(ExamStore store, SessionStore sessions, IdentityGateway identity) : ExamService.ExamServiceBase
{
    public override async Task<CreateExamResponse> CreateExam(CreateExamRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (string.IsNullOrWhiteSpace(request.RequestId)) throw GrpcErrors.InvalidArgument("request_id", "An idempotency key is required.");
        var violations = ExamValidator.Validate(request.Exam);
        if (violations.Count > 0) throw GrpcErrors.InvalidArgument(violations);
        caller.RequireStaffOf(request.Exam.CourseId);

        var examId = await store.BindCreateRequestAsync(caller.Subject + ":" + request.RequestId, "exam-" + Guid.NewGuid().ToString("N"));
        if (await store.GetAsync(examId) is { } existing) return new CreateExamResponse { Exam = existing };

        var exam = ExamValidator.WithDefaults(request.Exam);
        exam.ExamId = examId;
        exam.Version = 1;
        // Identity first: if it is unreachable nothing is stored and the retry starts over.
        await identity.ConfigureExamAsync(request.RequestId + ":v1", examId, exam.CourseId, exam.RoomScanRequired, context.CancellationToken);
        await store.CreateAsync(exam);
        return new CreateExamResponse { Exam = await store.GetAsync(examId) ?? exam };
    }

    public override async Task<UpdateExamResponse> UpdateExam(UpdateExamRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (string.IsNullOrWhiteSpace(request.RequestId)) throw GrpcErrors.InvalidArgument("request_id", "An idempotency key is required.");
        if (string.IsNullOrWhiteSpace(request.Exam?.ExamId)) throw GrpcErrors.InvalidArgument("exam.exam_id", "The exam id is required.");
        var current = await store.GetAsync(request.Exam.ExamId) ?? throw GrpcErrors.NotFound("exam", request.Exam.ExamId);
        caller.RequireStaffOf(current.CourseId);
        var violations = ExamValidator.Validate(request.Exam);
        if (request.Exam.CourseId != current.CourseId) violations.Add(("exam.course_id", "An exam cannot move to another course."));
        if (violations.Count > 0) throw GrpcErrors.InvalidArgument(violations);

        var exam = ExamValidator.WithDefaults(request.Exam);
        exam.Version = request.ExpectedVersion + 1;
        await identity.ConfigureExamAsync(request.RequestId + ":v" + exam.Version, exam.ExamId, exam.CourseId, exam.RoomScanRequired, context.CancellationToken);
        var r = await store.UpdateAsync(exam, request.ExpectedVersion, caller.Subject + ":" + request.RequestId);
        return r.Status switch
        {
            ExamUpdateStatus.Updated or ExamUpdateStatus.Duplicate => new UpdateExamResponse { Exam = await store.GetAsync(exam.ExamId) },
            ExamUpdateStatus.VersionMismatch => throw GrpcErrors.Aborted($"The exam is at version {r.Version}, not {request.ExpectedVersion}: someone changed it first. Read it again and retry."),
            _ => throw GrpcErrors.NotFound("exam", exam.ExamId),
        };
    }

    public override async Task<GetExamResponse> GetExam(GetExamRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var exam = await store.GetAsync(request.ExamId) ?? throw GrpcErrors.NotFound("exam", request.ExamId);
        caller.RequireStaffOf(exam.CourseId);
        return new GetExamResponse { Exam = exam };
    }

    public override async Task<ListExamsResponse> ListExams(ListExamsRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (string.IsNullOrWhiteSpace(request.CourseId)) throw GrpcErrors.InvalidArgument("course_id", "The course is required.");
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
        if (violations.Count > 0) throw GrpcErrors.InvalidArgument(violations);
        var exam = await store.GetAsync(request.ExamId) ?? throw GrpcErrors.NotFound("exam", request.ExamId);
        caller.RequireStaffOf(exam.CourseId);
        await store.SetExtraTimeAsync(exam.ExamId, request.LearnerId, request.ExtraTime!.ToTimeSpan());
        // A session already running gets it too: its deadline moves (its next heartbeat reply shows the new time left).
        if (await sessions.GetClaimAsync(exam.ExamId, request.LearnerId) is { } sessionId)
        {
            await sessions.ExtendDeadlineAsync(sessionId, request.ExtraTime.ToTimeSpan());
        }
        return new GrantExtraTimeResponse { LearnerId = request.LearnerId, ExtraTime = Duration.FromTimeSpan(request.ExtraTime.ToTimeSpan()) };
    }
}
