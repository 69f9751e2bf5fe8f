using Microsoft.AspNetCore.Http.Features;
using Vigil.ServiceDefaults.Errors;
using Yarp.ReverseProxy.Forwarder;

namespace Vigil.Gateway.Routing;

/// <summary>
/// What a gRPC client sees when the service behind the gateway fails: always UNAVAILABLE (14) with a <c>RetryInfo</c>, the status
/// gRPC clients and retry policies treat as "try again", never a bare HTTP error or CANCELLED.
/// <list type="bullet">
/// <item>Before the service answered (no replica reachable, connection refused, no healthy destination):
/// YARP sets 502/503/504; the gateway answers a trailers-only UNAVAILABLE instead.</item>
/// <item>After the answer started (a stream or call open when the process died): YARP resets the HTTP/2
/// stream, and its reset code reaches the client as CANCELLED "Call cancelled", as if the client had
/// cancelled. The gateway defers that reset: while the client is still connected, it ends the response
/// properly with the trailers <c>grpc-status: 14</c> and a message; when the client went away (its request
/// aborted, or a write to it failed), the reset goes through as YARP asked.</item>
/// </list>
/// </summary>
internal static class BackendFailures
{
    /// <summary>The proxy pipeline step; runs around the forwarder.</summary>
    public static async Task Handle(HttpContext context, Func<Task> next)
    {
        if (!GrpcResponses.IsGrpc(context))
        {
            await next();
            return;
        }
        // YARP resets the stream through IHttpResetFeature (Kestrel's HTTP/2), or aborts the request where there is
        // none (a test server): both are deferred until the forwarder has returned.
        var reset = context.Features.Get<IHttpResetFeature>();
        var lifetime = context.Features.Get<IHttpRequestLifetimeFeature>();
        var deferred = new DeferredReset(lifetime);
        if (reset is not null) context.Features.Set<IHttpResetFeature>(deferred);
        if (lifetime is not null) context.Features.Set<IHttpRequestLifetimeFeature>(deferred);
        try
        {
            await next();
        }
        finally
        {
            if (reset is not null) context.Features.Set(reset);
            if (lifetime is not null) context.Features.Set(lifetime);
        }

        var cluster = context.GetReverseProxyFeature().Cluster.Config.ClusterId;
        var message = $"The {cluster} service is unavailable; try again.";
        if (!context.Response.HasStarted)
        {
            if (context.Response.StatusCode is StatusCodes.Status502BadGateway or StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout)
            {
                GrpcResponses.WriteUnavailable(context, message);
            }
            return;
        }
        if (!deferred.Requested) return;
        // Which side failed is read from the client's own connection, not from YARP's error kind: when the service
        // resets the stream, HttpClient cancels the request body copy, and YARP may then report RequestBodyClient or
        // ResponseBodyCanceled although the client is still there. Only a failed write to the client is the client's.
        var error = context.Features.Get<IForwarderErrorFeature>()?.Error;
        if (error is not ForwarderError.ResponseBodyClient && !context.RequestAborted.IsCancellationRequested)
        {
            // The client is still there: end its call with a status it can act on.
            GrpcResponses.WriteUnavailable(context, message);
            return;
        }
        if (reset is not null && deferred.ResetCode is { } code) reset.Reset(code);
        else context.Abort();
    }

    /// <summary>Records the reset or abort YARP asks for instead of doing it at once.</summary>
    private sealed class DeferredReset(IHttpRequestLifetimeFeature? inner) : IHttpResetFeature, IHttpRequestLifetimeFeature
    {
        public bool Requested { get; private set; }

        public int? ResetCode { get; private set; }

        public CancellationToken RequestAborted
        {
            get => inner?.RequestAborted ?? CancellationToken.None;
            set
            {
                if (inner is not null) inner.RequestAborted = value;
            }
        }

        public void Reset(int errorCode)
        {
            Requested = true;
            ResetCode = errorCode;
        }

        public void Abort() => Requested = true;
    }
}
