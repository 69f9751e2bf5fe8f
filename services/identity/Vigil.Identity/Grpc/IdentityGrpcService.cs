using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Admission;
using Vigil.Identity.Erasure;
using Vigil.Identity.Photos;
using Vigil.Identity.Registration;
using Vigil.Identity.Verification;
using Vigil.ServiceDefaults.Auth;

namespace Vigil.Identity.Grpc;

/// <summary>
/// The identity service's one gRPC surface (the contract has one <c>IdentityService</c>): each RPC names its
/// caller and hands over to its feature (registration, verification steps, photos, erasure), where its rules
/// and its one-line access rule live. Who may call what: see docs/identity.md.
/// </summary>
internal sealed class IdentityGrpcService(
    LearnerRegistration registration,
    VerificationSteps verification,
    PhotoUploads uploads,
    StoredPhotos photos,
    LearnerErasure erasure,
    ExamAdmission admission) : IdentityService.IdentityServiceBase
{
    public override Task<CheckEmailResponse> CheckEmail(CheckEmailRequest request, ServerCallContext context)
    {
        Caller.From(context);
        return Task.FromResult(registration.CheckEmail(request));
    }

    public override Task<RegisterLearnerResponse> RegisterLearner(RegisterLearnerRequest request, ServerCallContext context) =>
        registration.RegisterAsync(Caller.From(context), request);

    public override Task<GetLearnerResponse> GetLearner(GetLearnerRequest request, ServerCallContext context) =>
        registration.GetAsync(Caller.From(context), request);

    public override Task<ConfigureExamVerificationResponse> ConfigureExamVerification(ConfigureExamVerificationRequest request, ServerCallContext context) =>
        verification.ConfigureAsync(Caller.From(context), request);

    public override Task<CompleteVerificationStepResponse> CompleteVerificationStep(CompleteVerificationStepRequest request, ServerCallContext context) =>
        verification.CompleteAsync(Caller.From(context), request);

    public override Task<GetVerificationStatusResponse> GetVerificationStatus(GetVerificationStatusRequest request, ServerCallContext context) =>
        verification.StatusAsync(Caller.From(context), request);

    public override Task<UploadPhotoResponse> UploadPhoto(IAsyncStreamReader<UploadPhotoRequest> requestStream, ServerCallContext context) =>
        uploads.UploadAsync(Caller.From(context), requestStream, context.CancellationToken);

    public override Task<GetPhotoResponse> GetPhoto(GetPhotoRequest request, ServerCallContext context) =>
        photos.GetAsync(Caller.From(context), request);

    [Obsolete("Retired: a learner's data is erased through vigil.session.v1.ErasureService.")]
    public override Task<EraseLearnerDataResponse> EraseLearnerData(EraseLearnerDataRequest request, ServerCallContext context) =>
        erasure.RefuseAsync(Caller.From(context), request);

    public override Task<AdmitToExamResponse> AdmitToExam(AdmitToExamRequest request, ServerCallContext context) =>
        admission.AdmitAsync(Caller.From(context), request);
}
