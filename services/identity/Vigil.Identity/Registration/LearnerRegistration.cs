using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Emails;
using Vigil.Identity.Grpc;
using Vigil.Identity.Storage;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.Identity.Registration;

/// <summary>
/// CheckEmail, RegisterLearner and GetLearner: a learner registers one alias-free address of their own; the
/// mailbox (its canonical form) belongs to one learner at a time.
/// </summary>
internal sealed partial class LearnerRegistration(
    IdentityStore store,
    EmailChecker emails,
    IOptions<IdentityOptions> options,
    TimeProvider clock,
    ILogger<LearnerRegistration> logger)
{
    /// <summary>Any signed-in caller may ask whether an address would be accepted (it is about no one's data).</summary>
    public CheckEmailResponse CheckEmail(CheckEmailRequest request) => emails.Check(request.Email).ToResponse();

    /// <summary>Registers (or changes) the calling learner's address and name; idempotent by request_id.</summary>
    public async Task<RegisterLearnerResponse> RegisterAsync(Caller caller, RegisterLearnerRequest request)
    {
        caller.RequireLearner();
        var learnerId = caller.Subject;
        RequestIds.RequireRequestId(request.RequestId);
        if (await store.GetIdempotentAsync(learnerId, "register", request.RequestId) is { } previous)
        {
            return RegisterLearnerResponse.Parser.ParseFrom(previous);
        }
        var check = emails.Check(request.Email);
        if (!check.Accepted)
        {
            throw new InvalidRequestException("email", check.Message);
        }
        var displayName = RegistrationRules.DisplayName(request.DisplayName, caller.Name);
        var now = DateTimeOffset.FromUnixTimeMilliseconds(clock.GetUtcNow().ToUnixTimeMilliseconds()); // stored to the millisecond
        var existing = await store.GetLearnerAsync(learnerId);
        if (existing is null || existing.CanonicalEmail != check.CanonicalEmail)
        {
            await ClaimEmailAsync(check.CanonicalEmail, learnerId, now);
        }
        var learner = new StoredLearner(learnerId, request.Email, check.CanonicalEmail, displayName, existing?.RegisteredAt ?? now);
        var response = new RegisterLearnerResponse { Learner = ToProto(learner) };
        string previousCanonical;
        try
        {
            previousCanonical = await store.SaveLearnerAsync(learner, ("register", request.RequestId, response.ToByteArray(), options.Value.IdempotencyWindow));
        }
        catch when (existing?.CanonicalEmail != check.CanonicalEmail)
        {
            // Compensation: the mailbox was claimed in another slot; give it back if the record was not written.
            await store.ReleaseEmailAsync(check.CanonicalEmail, learnerId);
            throw;
        }
        if (previousCanonical.Length > 0 && previousCanonical != check.CanonicalEmail)
        {
            await store.ReleaseEmailAsync(previousCanonical, learnerId);
        }
        LogRegistered(logger, learnerId);
        return response;
    }

    /// <summary>The learner's registration: the learner themselves, or a Vigil service naming them.</summary>
    public async Task<GetLearnerResponse> GetAsync(Caller caller, GetLearnerRequest request)
    {
        var learnerId = caller.LearnerData(request.LearnerId, LearnerDataReaders.Services);
        var learner = await store.GetLearnerAsync(learnerId) ?? throw new ResourceNotFoundException("learner", learnerId);
        return new GetLearnerResponse { Learner = ToProto(learner) };
    }

    private async Task ClaimEmailAsync(string canonical, string learnerId, DateTimeOffset now)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var claim = await store.TryClaimEmailAsync(canonical, learnerId, now);
            if (claim is null || claim.LearnerId == learnerId) return;
            var holder = await store.GetLearnerAsync(claim.LearnerId);
            if (!RegistrationRules.ClaimIsStale(canonical, holder?.CanonicalEmail, claim.ClaimedAt, now, options.Value.EmailClaimGrace))
            {
                throw new AlreadyExistsException("learner-email", "email",
                    "This mailbox is already registered to another learner (addresses are compared without case, and dots where the provider ignores them). If it is yours, contact support.");
            }
            if (await store.TakeOverEmailAsync(canonical, claim, learnerId, now)) return;
        }
        throw new ConcurrentChangeException("The address changed hands while registering; try again.");
    }

    private static Learner ToProto(StoredLearner l) => new()
    {
        LearnerId = l.LearnerId,
        Email = l.Email,
        CanonicalEmail = l.CanonicalEmail,
        DisplayName = l.DisplayName,
        RegisteredAt = Timestamp.FromDateTimeOffset(l.RegisteredAt),
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Learner {LearnerId} registered an email address")]
    private static partial void LogRegistered(ILogger logger, string learnerId);
}
