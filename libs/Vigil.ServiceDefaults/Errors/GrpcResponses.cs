using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Vigil.ServiceDefaults.Errors;

/// <summary>
/// Writes a gRPC "trailers-only" error answer from the HTTP pipeline itself, before any gRPC handler runs
/// (authentication, authorization, rate limits, the gateway's proxy): the caller reads a gRPC status, not a bare HTTP code.
/// </summary>
public static class GrpcResponses
{
    /// <summary>Whether the request is a gRPC call (HTTP/2 application/grpc, not gRPC-Web).</summary>
    public static bool IsGrpc(HttpContext context) =>
        context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true
        && !context.Request.ContentType.StartsWith("application/grpc-web", StringComparison.OrdinalIgnoreCase);

    /// <summary>Sets HTTP 200 with grpc-status and grpc-message headers: a trailers-only response.</summary>
    public static void WriteStatus(HttpContext context, StatusCode code, string message, params Google.Protobuf.WellKnownTypes.Any[] details)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
        if (details.Length > 0)
        {
            // What Grpc.StatusProto's GetRpcStatus reads: the google.rpc.Status, binary, base64.
            var status = new Google.Rpc.Status { Code = (int)code, Message = message };
            status.Details.AddRange(details);
            response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(Google.Protobuf.MessageExtensions.ToByteArray(status)).TrimEnd('=');
        }
    }

    /// <summary>
    /// UNAVAILABLE with the same <c>google.rpc.RetryInfo</c> as the services' own (<see cref="ServiceUnavailableException"/>):
    /// trailers-only before the answer started, else as the trailers that end it. A client that meets a failover
    /// through the gateway is told when to retry, as it is by the service.
    /// </summary>
    public static void WriteUnavailable(HttpContext context, string message)
    {
        const string Details = "grpc-status-details-bin";
        var details = Convert.ToBase64String(GrpcErrors.ToRpcException(new ServiceUnavailableException(message)).Trailers.GetValueBytes(Details)!);
        var code = ((int)StatusCode.Unavailable).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!context.Response.HasStarted)
        {
            WriteStatus(context, StatusCode.Unavailable, message);
            context.Response.Headers[Details] = details;
            return;
        }
        context.Response.AppendTrailer("grpc-status", code);
        context.Response.AppendTrailer("grpc-message", Uri.EscapeDataString(message));
        context.Response.AppendTrailer(Details, details);
    }
}
