using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Auth;
using Vigil.Gateway.Routing;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.Gateway.RateLimiting;

/// <summary>
/// Per-learner rate limits where abuse is cheap (photo uploads, session starts), partitioned by the token's
/// subject. A refused call gets a proper gRPC status: RESOURCE_EXHAUSTED (8), with a retry hint.
/// </summary>
internal static class GatewayRateLimits
{
    public static IServiceCollection AddGatewayRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<GatewayOptions>>((o, gateway) =>
        {
            var options = gateway.Value;
            o.AddPolicy(ProxyRoutes.UploadPhotoLimit, ctx => PerSubject(ctx, "upload", options.PhotoUploadsPerWindow, options.RateLimitWindow));
            o.AddPolicy(ProxyRoutes.StartSessionLimit, ctx => PerSubject(ctx, "start", options.SessionStartsPerWindow, options.RateLimitWindow));
            o.OnRejected = async (context, cancellationToken) =>
            {
                var response = context.HttpContext.Response;
                var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
                    ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
                    : (int)Math.Ceiling(options.RateLimitWindow.TotalSeconds);
                GrpcResponses.WriteStatus(context.HttpContext, Grpc.Core.StatusCode.ResourceExhausted,
                    $"Too many requests: try again in {seconds} s.");
                response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await response.CompleteAsync();
            };
        });
        return services;
    }

    private static RateLimitPartition<string> PerSubject(HttpContext context, string kind, int permits, TimeSpan window)
    {
        // Routes with a limit require authentication, so a subject is there; the fallback is the peer address.
        var subject = context.User.FindFirst(VigilClaims.Subject)?.Value
            ?? context.Connection.RemoteIpAddress?.ToString()
            ?? "unknown";
        return RateLimitPartition.GetFixedWindowLimiter($"{kind}:{subject}", _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }
}
