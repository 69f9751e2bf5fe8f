using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;

namespace Vigil.ServiceDefaults.Health;

internal static class HealthEndpoints
{
    /// <summary>
    /// /health/live: the process answers (no check that touches Redis or RabbitMQ).
    /// /health/ready: every check tagged ready passes (Redis, RabbitMQ, not draining).
    /// </summary>
    public static void MapVigilHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = r => r.Tags.Contains(HealthTags.Live) })
            .AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = r => r.Tags.Contains(HealthTags.Ready) })
            .AllowAnonymous();
    }
}
