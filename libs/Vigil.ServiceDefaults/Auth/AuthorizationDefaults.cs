using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>
/// Authorization by default: every endpoint requires an authenticated caller unless it says otherwise
/// (<c>AllowAnonymous</c>: certificate verification, health, metrics, reflection, the gateway's pages). A new
/// endpoint is closed the day it is mapped; what a caller may reach inside it is the handler's one-line
/// resource check (<see cref="Caller"/>).
/// </summary>
public static class AuthorizationDefaults
{
    /// <summary>The fallback and default policy: a caller with a valid bearer token.</summary>
    public static AuthorizationPolicy AuthenticatedCaller { get; } =
        new AuthorizationPolicyBuilder(JwtBearerDefaults.AuthenticationScheme).RequireAuthenticatedUser().Build();

    /// <summary>What a gRPC caller refused by the policy reads (the same text a handler's own check gives).</summary>
    public const string TokenRequired = "A valid bearer token is required.";

    /// <summary>
    /// Adds authorization with <see cref="AuthenticatedCaller"/> as the fallback policy (endpoints without
    /// authorization metadata) and the default one (<c>[Authorize]</c>), and makes a refused gRPC call read a
    /// gRPC status (Unauthenticated, PermissionDenied) instead of a bare HTTP 401/403.
    /// </summary>
    public static IServiceCollection AddVigilAuthorization(this IServiceCollection services)
    {
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(AuthenticatedCaller)
            .SetDefaultPolicy(AuthenticatedCaller);
        services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o =>
        {
            o.Events ??= new JwtBearerEvents();
            o.Events.OnTokenValidated = AuthenticationExtensions.OnTokenValidated;
            o.Events.OnChallenge = context =>
            {
                if (GrpcResponses.IsGrpc(context.HttpContext))
                {
                    context.HandleResponse();
                    var refusal = TokenRefusals.Describe(context.AuthenticateFailure, context.Request);
                    var code = refusal.Reason == "PROVIDER_UNAVAILABLE" ? Grpc.Core.StatusCode.Unavailable : Grpc.Core.StatusCode.Unauthenticated;
                    GrpcResponses.WriteStatus(context.HttpContext, code, refusal.Message, refusal.Detail());
                }
                return Task.CompletedTask;
            };
            o.Events.OnForbidden = context =>
            {
                if (GrpcResponses.IsGrpc(context.HttpContext))
                {
                    GrpcResponses.WriteStatus(context.HttpContext, Grpc.Core.StatusCode.PermissionDenied, "Not allowed.");
                }
                return Task.CompletedTask;
            };
        });
        return services;
    }
}
