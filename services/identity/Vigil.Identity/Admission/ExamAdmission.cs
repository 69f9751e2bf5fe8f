using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Emails;
using Vigil.Identity.Photos;
using Vigil.Identity.Storage;
using Vigil.Identity.Verification;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.Identity.Admission;

/// <summary>
/// AdmitToExam: the session service asks, before a start, whether a learner may start an exam and with what evidence.
/// The email rule is applied again at this moment (a registration the rules refuse today does not admit), the
/// verification must be complete, and the accepted photos are pinned to the session about to start.
/// </summary>
internal sealed class ExamAdmission(
    IdentityStore store,
    EmailChecker emails,
    VerificationSteps verification,
    StoredPhotos photos)
{
    /// <summary>Service callers only (the session service before a start).</summary>
    public async Task<AdmitToExamResponse> AdmitAsync(Caller caller, AdmitToExamRequest request)
    {
        if (!caller.IsService) throw new AccessDeniedException("Only Vigil's session service asks whether a learner may start an exam.");
        RequestIds.RequireRequestId(request.RequestId);
        RequestIds.RequireId("learner_id", request.LearnerId);
        RequestIds.RequireId("exam_id", request.ExamId);
        RequestIds.RequireId("session_id", request.SessionId);

        var response = new AdmitToExamResponse();
        var learner = await store.GetLearnerAsync(request.LearnerId);
        if (learner is null)
        {
            response.EmailStanding = EmailStanding.NotRegistered;
            response.EmailMessage = "Register your email address first (an address of your own, without an alias such as +tag): an exam is taken under a registered address.";
        }
        else
        {
            response.Learner = new Learner
            {
                LearnerId = learner.LearnerId,
                Email = learner.Email,
                CanonicalEmail = learner.CanonicalEmail,
                DisplayName = learner.DisplayName,
                RegisteredAt = Timestamp.FromDateTimeOffset(learner.RegisteredAt),
            };
            var check = emails.Check(learner.Email);
            if (check.Accepted)
            {
                response.EmailStanding = EmailStanding.Accepted;
            }
            else
            {
                response.EmailStanding = EmailStanding.Refused;
                response.EmailRefusalReason = check.Reason;
                response.EmailMessage = "Your registered address is refused: " + check.Message + " Register another address before you start.";
            }
        }

        var steps = await verification.StepsForAsync(request.ExamId);
        var (record, _) = await store.LoadVerificationAsync(request.LearnerId, request.ExamId);
        response.Verification = VerificationFlow.Status(request.LearnerId, request.ExamId, record, steps);
        response.Admitted = response.EmailStanding == EmailStanding.Accepted && response.Verification.MayStartExam;
        if (response.Admitted)
        {
            var evidence = await photos.EvidenceAsync(request.LearnerId, record);
            await store.PinPhotosAsync(request.LearnerId, [.. evidence.Select(p => p.PhotoId)], request.SessionId);
            response.Photos.AddRange(evidence);
        }
        return response;
    }
}
