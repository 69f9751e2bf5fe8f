using Google.Rpc;
using Grpc.Core;
using Xunit;

namespace Vigil.Testing;

/// <summary>Assertions on gRPC errors and their details.</summary>
public static class RpcAssert
{
    /// <summary>Awaits a call that must fail with <paramref name="code"/>; returns the exception.</summary>
    public static async Task<RpcException> ThrowsAsync(StatusCode code, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(ex.StatusCode == code, $"Expected {code}, got {ex.StatusCode}: {ex.Status.Detail}");
        return ex;
    }

    /// <summary>The field violations of an InvalidArgument error.</summary>
    public static IReadOnlyList<BadRequest.Types.FieldViolation> FieldViolations(RpcException ex) =>
        ex.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations.ToList() ?? [];

    /// <summary>The reason code of an error's google.rpc.ErrorInfo (a refused token's, for example).</summary>
    public static string? ErrorReason(RpcException ex) => ex.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason;

    /// <summary>The metadata of an error's google.rpc.ErrorInfo (empty when it has none).</summary>
    public static IReadOnlyDictionary<string, string> ErrorMetadata(RpcException ex) =>
        ex.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Metadata.ToDictionary() ?? new Dictionary<string, string>();

    /// <summary>The precondition violations of a FailedPrecondition error.</summary>
    public static IReadOnlyList<PreconditionFailure.Types.Violation> PreconditionViolations(RpcException ex) =>
        ex.GetRpcStatus()?.GetDetail<PreconditionFailure>()?.Violations.ToList() ?? [];
}
