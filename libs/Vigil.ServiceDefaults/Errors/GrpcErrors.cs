using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Vigil.ServiceDefaults.Errors;

/// <summary>
/// The one place where what went wrong (<see cref="DomainException"/>) becomes a gRPC status with google.rpc
/// details (BadRequest field violations, PreconditionFailure, ResourceInfo, QuotaFailure), so that clients can
/// tell the learner exactly what to fix or what must happen first. The error interceptor calls it for every
/// handler; code that runs before the interceptor (request parsing) calls it directly.
/// </summary>
public static class GrpcErrors
{
    /// <summary>The google.rpc.ErrorInfo domain of the services' refusals (token refusals have their own).</summary>
    public const string Domain = "vigil";

    /// <summary>The status for <paramref name="error"/>.</summary>
    public static RpcException ToRpcException(DomainException error) => error switch
    {
        InvalidRequestException e => Build(Code.InvalidArgument, e.Message, Any.Pack(BadRequest(e))),
        PreconditionFailedException { Info.Count: > 0 } e => Build(Code.FailedPrecondition, e.Message, Any.Pack(PreconditionFailure(e)), Any.Pack(ErrorInfo(e))),
        PreconditionFailedException e => Build(Code.FailedPrecondition, e.Message, Any.Pack(PreconditionFailure(e))),
        ResourceNotFoundException e => Build(Code.NotFound, e.Message,
            Any.Pack(new ResourceInfo { ResourceType = e.ResourceType, ResourceName = e.ResourceName, Description = e.Message })),
        AlreadyExistsException e => Build(Code.AlreadyExists, e.Message,
            Any.Pack(new ResourceInfo { ResourceType = e.ResourceType, ResourceName = e.ResourceName, Description = e.Message })),
        AccessDeniedException e => Build(Code.PermissionDenied, e.Message),
        NotAuthenticatedException e => Build(Code.Unauthenticated, e.Message),
        QuotaExceededException e => Build(Code.ResourceExhausted, e.Message, Any.Pack(QuotaFailure(e))),
        ConcurrentChangeException e => Build(Code.Aborted, e.Message),
        ServiceUnavailableException e => Build(Code.Unavailable, e.Message, Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(e.RetryAfter) })),
        StoredDataUnreadableException e => Build(Code.Internal, e.Message),
        _ => Build(Code.Internal, "An internal error occurred; it has been logged."),
    };

    private static BadRequest BadRequest(InvalidRequestException e)
    {
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(e.Violations.Select(v => new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description }));
        return badRequest;
    }

    private static PreconditionFailure PreconditionFailure(PreconditionFailedException e)
    {
        var failure = new PreconditionFailure();
        failure.Violations.AddRange(e.Violations.Select(v => new PreconditionFailure.Types.Violation { Type = v.Type, Subject = v.Subject, Description = v.Description }));
        return failure;
    }

    private static ErrorInfo ErrorInfo(PreconditionFailedException e)
    {
        var info = new ErrorInfo { Reason = e.Violations.Count > 0 ? e.Violations[0].Type : string.Empty, Domain = Domain };
        foreach (var (key, value) in e.Info) info.Metadata[key] = value;
        return info;
    }

    private static QuotaFailure QuotaFailure(QuotaExceededException e)
    {
        var quota = new QuotaFailure();
        quota.Violations.Add(new QuotaFailure.Types.Violation { Subject = e.Subject, Description = e.Message });
        return quota;
    }

    /// <summary>How long a client should wait before retrying a call that got Unavailable, unless told otherwise.</summary>
    public static readonly TimeSpan DefaultRetryDelay = TimeSpan.FromSeconds(1);

    private static RpcException Build(Code code, string message, params Any[] details)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        status.Details.AddRange(details);
        return status.ToRpcException();
    }
}
