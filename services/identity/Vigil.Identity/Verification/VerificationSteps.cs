using Google.Protobuf;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Grpc;
using Vigil.Identity.Photos;
using Vigil.Identity.Storage;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.Identity.Verification;

/// <summary>
/// ConfigureExamVerification, CompleteVerificationStep and GetVerificationStatus: what an exam's verification
/// asks for, the steps without a photo, and where a learner stands. The order and the words are
/// <see cref="VerificationFlow"/>'s.
/// </summary>
internal sealed class VerificationSteps(
    IdentityStore store,
    IOptions<PhotoOptions> photoOptions,
    IOptions<IdentityOptions> identityOptions,
    TimeProvider clock)
{
    /// <summary>How many times a change to the verification record is retried when another change won.</summary>
    public const int MaxCommitAttempts = 8;

    /// <summary>The course's staff (or the session service) say whether the exam asks for a room scan.</summary>
    public async Task<ConfigureExamVerificationResponse> ConfigureAsync(Caller caller, ConfigureExamVerificationRequest request)
    {
        RequestIds.RequireId("exam_id", request.ExamId);
        RequestIds.RequireId("course_id", request.CourseId);
        caller.RequireStaffOf(request.CourseId);
        var existing = await store.GetExamAsync(request.ExamId);
        if (existing is not null && existing.CourseId != request.CourseId && !caller.IsService)
        {
            throw new AccessDeniedException("This exam belongs to another course.");
        }
        await store.SetExamAsync(request.ExamId, new ExamRequirements(request.CourseId, request.RoomScanRequired));
        var response = new ConfigureExamVerificationResponse();
        response.Steps.AddRange(VerificationFlow.Steps(request.RoomScanRequired));
        return response;
    }

    /// <summary>A step without a photo (system check, microphone test, room scan), passed or not; idempotent by request_id.</summary>
    public async Task<CompleteVerificationStepResponse> CompleteAsync(Caller caller, CompleteVerificationStepRequest request)
    {
        caller.RequireLearner();
        var learnerId = caller.Subject;
        RequestIds.RequireRequestId(request.RequestId);
        RequestIds.RequireId("exam_id", request.ExamId);
        VerificationFlow.RequireStepWithoutPhoto(request.Step);
        var details = VerificationFlow.RequireDetails(request.Details);
        if (await store.GetIdempotentAsync(learnerId, "step", request.RequestId) is { } previous)
        {
            return CompleteVerificationStepResponse.Parser.ParseFrom(previous);
        }
        var steps = await StepsForAsync(request.ExamId);
        for (var attempt = 0; attempt < MaxCommitAttempts; attempt++)
        {
            var (record, raw) = await store.LoadVerificationAsync(learnerId, request.ExamId);
            VerificationFlow.RequireInOrder(record, steps, request.Step, request.ExamId);
            record.Set(request.Step, VerificationFlow.Checked(request.Passed, details, clock.GetUtcNow()));
            var response = new CompleteVerificationStepResponse { Status = VerificationFlow.Status(learnerId, request.ExamId, record, steps) };
            if (await store.TryCommitVerificationAsync(learnerId, request.ExamId, raw, record, photoOptions.Value.Retention, null, [],
                    ("step", request.RequestId, response.ToByteArray(), identityOptions.Value.IdempotencyWindow)))
            {
                return response;
            }
        }
        throw new ConcurrentChangeException("The verification changed concurrently; try again.");
    }

    /// <summary>Where the learner stands: the learner themselves, or the session service before a start.</summary>
    public async Task<GetVerificationStatusResponse> StatusAsync(Caller caller, GetVerificationStatusRequest request)
    {
        var learnerId = caller.LearnerData(request.LearnerId, LearnerDataReaders.Services);
        RequestIds.RequireId("exam_id", request.ExamId);
        var steps = await StepsForAsync(request.ExamId);
        var (record, _) = await store.LoadVerificationAsync(learnerId, request.ExamId);
        return new GetVerificationStatusResponse { Status = VerificationFlow.Status(learnerId, request.ExamId, record, steps) };
    }

    /// <summary>The steps of an exam's verification, in order.</summary>
    public async Task<IReadOnlyList<VerificationStep>> StepsForAsync(string examId) =>
        VerificationFlow.Steps((await store.GetExamAsync(examId))?.RoomScanRequired == true);
}
