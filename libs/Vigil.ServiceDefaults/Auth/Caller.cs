using System.Security.Claims;
using Grpc.Core;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>Who is calling, read from the validated token. Object-level checks go through these methods.</summary>
public sealed class Caller
{
    private readonly ClaimsPrincipal _principal;

    private Caller(ClaimsPrincipal principal)
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

    /// <summary>The caller of a gRPC call; Unauthenticated when there is no valid token.</summary>
    public static Caller From(ServerCallContext context)
    {
        var caller = new Caller(context.GetHttpContext().User);
        if (!caller.IsAuthenticated)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, AuthorizationDefaults.TokenRequired));
        }
        return caller;
    }

    /// <summary>
    /// Resolves which learner a call is about: empty means the caller (who must be a learner). A learner may
    /// name only themselves; services and ops may name anyone. Anything else is PermissionDenied.
    /// </summary>
    public string ResolveLearner(string requestedLearnerId, bool allowService = true, bool allowOps = true)
    {
        if (string.IsNullOrEmpty(requestedLearnerId) || requestedLearnerId == Subject)
        {
            if (IsLearner) return Subject;
            if (string.IsNullOrEmpty(requestedLearnerId))
            {
                throw GrpcErrors.PermissionDenied("Only a learner can act on their own data without naming a learner.");
            }
        }
        if ((allowService && IsService) || (allowOps && IsOps))
        {
            return requestedLearnerId;
        }
        throw GrpcErrors.PermissionDenied("A learner can reach only their own data.");
    }

    /// <summary>Requires the learner role.</summary>
    public void RequireLearner()
    {
        if (!IsLearner) throw GrpcErrors.PermissionDenied("This call is for learners.");
    }

    /// <summary>Requires a seat on the board of a course.</summary>
    public void RequireBoardOf(string courseId)
    {
        if (!IsBoardOf(courseId)) throw GrpcErrors.PermissionDenied("Only the exam board of this course may do this.");
    }

    /// <summary>Requires staff of a course (or a service).</summary>
    public void RequireStaffOf(string courseId)
    {
        if (!IsStaffOf(courseId) && !IsService) throw GrpcErrors.PermissionDenied("Only the staff of this course may do this.");
    }

    /// <summary>Requires the service role.</summary>
    public void RequireService()
    {
        if (!IsService) throw GrpcErrors.PermissionDenied("This call is for Vigil's services only.");
    }
}
