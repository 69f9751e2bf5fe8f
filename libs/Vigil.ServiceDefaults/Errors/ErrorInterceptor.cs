using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Vigil.ServiceDefaults.Redis;

namespace Vigil.ServiceDefaults.Errors;

/// <summary>
/// Turns anything that escapes a handler into a precise status, never Unknown: a refusal said in the domain's
/// terms (<see cref="DomainException"/>) becomes its status with details (<see cref="GrpcErrors"/>, the one
/// mapping); a store outage, failover or resharding (<see cref="RedisFailure.IsUnavailable"/>) is Unavailable
/// with a retry hint (safe to retry); a cancelled call is Cancelled; anything else (a bug) Internal, logged with
/// its exception (never with request payloads: they may hold answers or photos). One place for every call and
/// stream: a stream whose handler lets a store failure escape ends with that status, and the client resumes from its
/// last acknowledgement (the session's exam stream answers a store failure per message instead and stays open).
/// </summary>
internal sealed partial class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context); }
        catch (Exception ex) when (ex is not RpcException) { throw Translate(ex, context); }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(requestStream, context); }
        catch (Exception ex) when (ex is not RpcException) { throw Translate(ex, context); }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(request, responseStream, context); }
        catch (Exception ex) when (ex is not RpcException) { throw Translate(ex, context); }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(requestStream, responseStream, context); }
        catch (Exception ex) when (ex is not RpcException) { throw Translate(ex, context); }
    }

    private RpcException Translate(Exception ex, ServerCallContext context)
    {
        if (ex is DomainException refusal)
        {
            return GrpcErrors.ToRpcException(refusal);
        }
        // The caller went away: it cancelled, or reset the stream (a request stream's read then throws an IOException,
        // "The client reset the request stream", with the call's token cancelled). Not a bug, and nobody is left to
        // read the status; it was logged as an unhandled error and answered Internal.
        if (ex is OperationCanceledException or IOException && context.CancellationToken.IsCancellationRequested)
        {
            return new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));
        }
        if (RedisFailure.IsUnavailable(ex))
        {
            // A store outage, a failover or resharding under way, a write its replicas did not confirm: never Internal.
            LogDependency(logger, context.Method, ex);
            return GrpcErrors.ToRpcException(new ServiceUnavailableException(ex is StoreNotAcknowledgedException
                ? ex.Message
                : "The store is unavailable (a failover may be under way); nothing was acknowledged. Retry shortly."));
        }
        LogUnhandled(logger, context.Method, ex);
        return new RpcException(new Status(StatusCode.Internal, "An internal error occurred; it has been logged."));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dependency unavailable in {Method}")]
    private static partial void LogDependency(ILogger logger, string method, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error in {Method}")]
    private static partial void LogUnhandled(ILogger logger, string method, Exception exception);
}
