using Vigil.Contracts.Identity.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.Identity.Erasure;

/// <summary>
/// EraseLearnerData, retired: an erasure of this service alone left the session and certificate services holding the
/// learner, and could destroy the evidence of an exam the board has not decided on. A learner's data is erased by one
/// request through <c>vigil.session.v1.ErasureService</c>, which reaches this service as a
/// <see cref="Contracts.Events.LearnerErasureRequested"/> event (<see cref="IdentityErasureConsumer"/>).
/// </summary>
internal sealed class LearnerErasure
{
    /// <summary>
    /// The caller is still checked first (the learner themselves or ops, as before: anyone else is refused whether or
    /// not the learner exists); then FailedPrecondition names the one way.
    /// </summary>
    public Task<EraseLearnerDataResponse> RefuseAsync(Caller caller, EraseLearnerDataRequest request)
    {
        caller.LearnerData(request.LearnerId, LearnerDataReaders.Ops);
        throw new PreconditionFailedException("ERASURE_BY_REQUEST", "vigil.session.v1.ErasureService/StartErasure",
            "A learner's data is erased in every Vigil service at once, never here alone: platform operations start it with ErasureService.StartErasure (docs/privacy.md).");
    }
}
