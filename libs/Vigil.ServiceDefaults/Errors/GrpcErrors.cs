using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Vigil.ServiceDefaults.Errors;

/// <summary>
/// gRPC errors with google.rpc details (BadRequest field violations, PreconditionFailure, ResourceInfo),
/// so that clients can tell the learner exactly what to fix or what must happen first.
/// </summary>
public static class GrpcErrors
{
    /// <summary>InvalidArgument with one field violation.</summary>
    public static RpcException InvalidArgument(string field, string description) =>
        InvalidArgument([(field, description)]);

    /// <summary>InvalidArgument with several field violations.</summary>
    public static RpcException InvalidArgument(IEnumerable<(string Field, string Description)> violations)
    {
        var list = violations.ToList();
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(list.Select(v => new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description }));
        return Build(Code.InvalidArgument, string.Join(" ", list.Select(v => $"{v.Field}: {v.Description}")), Any.Pack(badRequest));
    }

    /// <summary>FailedPrecondition saying what must happen first.</summary>
    /// <param name="type">A machine-readable kind, e.g. "VERIFICATION_INCOMPLETE".</param>
    /// <param name="subject">What the precondition is about, e.g. "exams/123".</param>
    /// <param name="description">What must happen first, for a person.</param>
    public static RpcException FailedPrecondition(string type, string subject, string description)
    {
        var failure = new PreconditionFailure();
        failure.Violations.Add(new PreconditionFailure.Types.Violation { Type = type, Subject = subject, Description = description });
        return Build(Code.FailedPrecondition, description, Any.Pack(failure));
    }

    /// <summary>NotFound for a resource.</summary>
    public static RpcException NotFound(string resourceType, string resourceName)
    {
        var info = new ResourceInfo { ResourceType = resourceType, ResourceName = resourceName, Description = $"No {resourceType} '{resourceName}'." };
        return Build(Code.NotFound, info.Description, Any.Pack(info));
    }

    /// <summary>AlreadyExists for a resource.</summary>
    public static RpcException AlreadyExists(string resourceType, string resourceName, string description)
    {
        var info = new ResourceInfo { ResourceType = resourceType, ResourceName = resourceName, Description = description };
        return Build(Code.AlreadyExists, description, Any.Pack(info));
    }

    /// <summary>PermissionDenied; the message never names another person's data.</summary>
    public static RpcException PermissionDenied(string description) =>
        Build(Code.PermissionDenied, description);

    /// <summary>ResourceExhausted (a size cap or a rate limit) with the limit in a QuotaFailure.</summary>
    public static RpcException ResourceExhausted(string subject, string description)
    {
        var quota = new QuotaFailure();
        quota.Violations.Add(new QuotaFailure.Types.Violation { Subject = subject, Description = description });
        return Build(Code.ResourceExhausted, description, Any.Pack(quota));
    }

    /// <summary>Aborted: a concurrent change won (optimistic concurrency); read again and retry.</summary>
    public static RpcException Aborted(string description) => Build(Code.Aborted, description);

    /// <summary>How long a client should wait before retrying a call that got <see cref="Unavailable"/>, unless told otherwise.</summary>
    public static readonly TimeSpan DefaultRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Unavailable: a dependency is down (or between a failover's start and its end); safe to retry, after the
    /// <c>RetryInfo</c> delay (<paramref name="retryAfter"/>, <see cref="DefaultRetryDelay"/> unless given).
    /// </summary>
    public static RpcException Unavailable(string description, TimeSpan? retryAfter = null) =>
        Build(Code.Unavailable, description, Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter ?? DefaultRetryDelay) }));

    private static RpcException Build(Code code, string message, params Any[] details)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        status.Details.AddRange(details);
        return status.ToRpcException();
    }
}
