using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Vigil.Testing;

/// <summary>
/// What a host lets an anonymous caller reach, read from its real endpoint table and authorization policies
/// (the same combination the authorization middleware makes): endpoints that allow anonymous callers, and
/// endpoints whose effective policy does not require an authenticated user.
/// </summary>
public static class OpenEndpoints
{
    /// <summary>
    /// What every Vigil service leaves open, and nothing more: the health endpoints (HTTP and gRPC), the metrics
    /// and gRPC reflection (both meant for the management network; reflection is off in production).
    /// </summary>
    public static IReadOnlySet<string> ServiceDefaults { get; } = new SortedSet<string>(StringComparer.Ordinal)
    {
        "/health/live",
        "/health/ready",
        "/metrics",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    };

    /// <summary>
    /// The open endpoints of the host behind <paramref name="services"/>: a gRPC service by its full name
    /// (all its methods), any other endpoint by its route pattern.
    /// </summary>
    public static async Task<SortedSet<string>> ListAsync(IServiceProvider services)
    {
        var policies = services.GetRequiredService<IAuthorizationPolicyProvider>();
        var open = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints)
        {
            // grpc-dotnet's catch-alls for unknown services and methods answer Unimplemented and reach no handler.
            if (endpoint is RouteEndpoint route && route.RoutePattern.RawText?.Contains("{unimplementedMethod", StringComparison.Ordinal) == true) continue;
            if (!await IsOpenAsync(endpoint, policies)) continue;
            open.Add(endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc
                ? grpc.Method.ServiceName
                : (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? endpoint.DisplayName ?? "?");
        }
        return open;
    }

    private static async Task<bool> IsOpenAsync(Endpoint endpoint, IAuthorizationPolicyProvider policies)
    {
        if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null) return true;
        var policy = await AuthorizationPolicy.CombineAsync(policies,
            endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>(),
            endpoint.Metadata.GetOrderedMetadata<AuthorizationPolicy>());
        return policy is null || !policy.Requirements.OfType<DenyAnonymousAuthorizationRequirement>().Any();
    }
}
