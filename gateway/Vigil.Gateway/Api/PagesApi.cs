using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Net.Http.Headers;
using Vigil.Contracts.Certificate.V1;
using Vigil.Gateway.Routing;
using Vigil.Gateway.SignIn;

namespace Vigil.Gateway.Api;

/// <summary>
/// The small JSON API behind the browser pages, for a signed-in session (the gateway's cookie, SignIn) or a bearer
/// token. The gateway calls the certificate service over gRPC with the caller's own access token (the session's,
/// or the bearer's), so the service does its object-level checks exactly as for any client; the
/// gateway never decides whose dashboard is whose.
/// </summary>
internal static class PagesApi
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    public static IEndpointRouteBuilder MapPagesApi(this IEndpointRouteBuilder app)
    {
        // The learner's dashboard: all entries now.
        app.MapGet("/api/dashboard", async (HttpContext http, ServiceChannels channels) =>
        {
            var client = new DashboardService.DashboardServiceClient(channels.For(ProxyRoutes.Certificate));
            try
            {
                var response = await client.GetDashboardAsync(new GetDashboardRequest(), Forward(http), cancellationToken: http.RequestAborted);
                return Results.Text(Json.Format(response), "application/json", Encoding.UTF8);
            }
            catch (RpcException ex)
            {
                return Problem(ex);
            }
        }).RequireAuthorization(SignInExtensions.PagesPolicy);

        // The learner's dashboard, live: one JSON object per line (the snapshot, then each change).
        app.MapGet("/api/dashboard/watch", async (HttpContext http, ServiceChannels channels) =>
        {
            var client = new DashboardService.DashboardServiceClient(channels.For(ProxyRoutes.Certificate));
            using var call = client.WatchDashboard(new WatchDashboardRequest(), Forward(http), cancellationToken: http.RequestAborted);
            try
            {
                await call.ResponseHeadersAsync;
                http.Response.ContentType = "application/x-ndjson; charset=utf-8";
                http.Response.Headers.CacheControl = "no-store";
                http.Response.Headers["X-Accel-Buffering"] = "no";
                await http.Response.Body.FlushAsync(http.RequestAborted);
                await foreach (var update in call.ResponseStream.ReadAllAsync(http.RequestAborted))
                {
                    await http.Response.WriteAsync(Json.Format(update) + "\n", http.RequestAborted);
                    await http.Response.Body.FlushAsync(http.RequestAborted);
                }
            }
            catch (RpcException ex) when (!http.Response.HasStarted)
            {
                await Problem(ex).ExecuteAsync(http);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled) { }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested) { }
        }).RequireAuthorization(SignInExtensions.PagesPolicy);

        // Anyone may check a certificate by its code.
        app.MapGet("/api/certificates/{code}", async (string code, HttpContext http, ServiceChannels channels) =>
        {
            var client = new CertificateVerificationService.CertificateVerificationServiceClient(channels.For(ProxyRoutes.Certificate));
            try
            {
                var response = await client.VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = code }, cancellationToken: http.RequestAborted);
                return Results.Text(Json.Format(response), "application/json", Encoding.UTF8);
            }
            catch (RpcException ex)
            {
                return Problem(ex);
            }
        }).AllowAnonymous();

        return app;
    }

    private static Metadata Forward(HttpContext http)
    {
        var metadata = new Metadata();
        var authorization = http.Request.Headers[HeaderNames.Authorization].ToString();
        if (authorization.Length > 0) metadata.Add("authorization", authorization);
        // A signed-in session (cookie): its access token, refreshed when near expiry (SessionTokens).
        else if (http.Items[SessionTokens.AccessTokenItem] is string token) metadata.Add("authorization", "Bearer " + token);
        return metadata;
    }

    private static IResult Problem(RpcException ex)
    {
        var status = ex.StatusCode switch
        {
            StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
            StatusCode.PermissionDenied => StatusCodes.Status403Forbidden,
            StatusCode.NotFound => StatusCodes.Status404NotFound,
            StatusCode.InvalidArgument or StatusCode.FailedPrecondition => StatusCodes.Status400BadRequest,
            StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
            StatusCode.Unavailable or StatusCode.DeadlineExceeded => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status502BadGateway,
        };
        return Results.Json(new { error = ex.StatusCode.ToString(), detail = ex.Status.Detail }, statusCode: status);
    }
}
