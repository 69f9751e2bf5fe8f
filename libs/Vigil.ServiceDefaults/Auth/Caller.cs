using System.Security.Claims;
using Grpc.Core;
using Vigil.Contracts.Auth;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>Who is calling, read from the validated token. Object-level checks go through these methods.</summary>
public sealed class Caller
{
    private readonly ClaimsPrincipal _principal;

    internal Caller(ClaimsPrincipal principal)
    {
        _principal = principal;
        Subject = principal.FindFirst(VigilClaims.Subject)?.Value
            ?? principal.FindFirst(ClaimTypes.NameIdentifier)?.Value
            ?? string.Empty;
    }

    /// <summary>The token's subject.</summary>
    public string Subject { get; }

    /// <summary>The subject's display name, when the token has one.</summary>
    public string? Name => _principal.FindFirst(VigilClaims.Name)?.Value;

    /// <summary>Whether the caller is authenticated.</summary>
    public bool IsAuthenticated => _principal.Identity?.IsAuthenticated == true && Subject.Length > 0;

    /// <summary>Whether the caller has a role.</summary>
    public bool IsInRole(string role) => _principal.HasClaim(VigilClaims.Role, role) || _principal.HasClaim(ClaimTypes.Role, role);

    /// <summary>Whether the caller is a learner.</summary>
    public bool IsLearner => IsInRole(VigilRoles.Learner);

    /// <summary>Whether the caller is another Vigil service.</summary>
    public bool IsService => IsInRole(VigilRoles.Service);

    /// <summary>Whether the caller is ops.</summary>
    public bool IsOps => IsInRole(VigilRoles.Ops);

    /// <summary>Whether the caller sits on the exam board of a course.</summary>
    public bool IsBoardOf(string courseId) => courseId.Length > 0 && _principal.HasClaim(VigilClaims.BoardCourse, courseId);

    /// <summary>Whether the caller is staff of a course.</summary>
    public bool IsStaffOf(string courseId) => courseId.Length > 0 && _principal.HasClaim(VigilClaims.StaffCourse, courseId);

    /// <summary>The courses whose board the caller sits on.</summary>
    public IEnumerable<string> BoardCourses => _principal.FindAll(VigilClaims.BoardCourse).Select(c => c.Value);

    /// <summary>
    /// The caller of a gRPC call; Unauthenticated when there is no valid token (the fallback policy already
    /// refuses such a call before any handler runs: this is the handler's own second check).
    /// </summary>
    public static Caller From(ServerCallContext context)
    {
        var caller = new Caller(context.GetHttpContext().User);
        if (!caller.IsAuthenticated)
        {
            throw new NotAuthenticatedException(AuthorizationDefaults.TokenRequired);
        }
        return caller;
    }

    /// <summary>
    /// The access rule of a learner's own data (registration, verification, photos, dashboard), in one line:
    /// which learner a call is about. An empty id means the caller, who must then be a learner; a learner may
    /// name only themselves; <paramref name="alsoBy"/> says who else may name a learner. Anyone else is refused
    /// whether or not that learner exists, and told what the rule is, in words that fit who they are.
    /// </summary>
    public string LearnerData(string requestedLearnerId, LearnerDataReaders alsoBy)
    {
        var mayNameAnyone = (alsoBy.HasFlag(LearnerDataReaders.Services) && IsService) || (alsoBy.HasFlag(LearnerDataReaders.Ops) && IsOps);
        if (string.IsNullOrEmpty(requestedLearnerId) || requestedLearnerId == Subject)
        {
            if (IsLearner) return Subject;
            if (string.IsNullOrEmpty(requestedLearnerId))
            {
                if (mayNameAnyone) throw new InvalidRequestException("learner_id", "Name the learner whose data this is.");
                throw new AccessDeniedException($"Only a learner's own token stands for a learner without naming them; a learner's data is reached only by {Readers(alsoBy)}.");
            }
        }
        if (mayNameAnyone) return requestedLearnerId;
        throw new AccessDeniedException(IsLearner
            ? "You can reach only your own data, not another learner's."
            : $"A learner's data is reached only by {Readers(alsoBy)}.");
    }

    private static string Readers(LearnerDataReaders alsoBy) => alsoBy switch
    {
        LearnerDataReaders.Services => "the learner themselves and Vigil's services",
        LearnerDataReaders.Ops => "the learner themselves and platform operations",
        LearnerDataReaders.Services | LearnerDataReaders.Ops => "the learner themselves, Vigil's services and platform operations",
        _ => "the learner themselves",
    };

    /// <summary>Requires the learner role.</summary>
    public void RequireLearner()
    {
        if (!IsLearner) throw new AccessDeniedException("This call is for learners: the token has no learner role.");
    }

    /// <summary>Requires a seat on the board of a course.</summary>
    public void RequireBoardOf(string courseId)
    {
        if (!IsBoardOf(courseId)) throw new AccessDeniedException("Only the exam board of this course may do this.");
    }

    /// <summary>Requires staff of a course (or a service).</summary>
    public void RequireStaffOf(string courseId)
    {
        if (!IsStaffOf(courseId) && !IsService) throw new AccessDeniedException("Only the staff of this course may do this.");
    }

    /// <summary>Requires the ops role (platform operations).</summary>
    public void RequireOps()
    {
        if (!IsOps) throw new AccessDeniedException("This call is for platform operations only.");
    }
}

/// <summary>Who, besides the learner themselves, may name a learner to reach their data.</summary>
[Flags]
public enum LearnerDataReaders
{
    /// <summary>The learner only.</summary>
    LearnerOnly = 0,

    /// <summary>Vigil's services (the session service reading a verification, a photo for the board).</summary>
    Services = 1,

    /// <summary>Platform operations (erasure).</summary>
    Ops = 2,
}
