using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.ServiceDefaults.Health;
using Vigil.ServiceDefaults.Telemetry;

namespace Vigil.ServiceDefaults.Hosting;

/// <summary>The wiring every Vigil gRPC service shares. A service's Program.cs calls these two methods.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// Adds gRPC (with the error interceptor and message size limits), health checks, telemetry,
    /// structured logging, reflection, graceful draining and JWT authentication.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<HostingOptions>(HostingOptions.Section);

        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });

        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<ErrorInterceptor>();
            o.EnableDetailedErrors = false;
        });
        builder.Services.AddOptions<GrpcServiceOptions>()
            .Configure<IOptions<HostingOptions>>((o, hosting) => o.MaxReceiveMessageSize = hosting.Value.MaxReceiveMessageBytes);
        // Requests that are not valid messages are InvalidArgument, not grpc-dotnet's Unknown.
        StrictServiceMethodProvider.ReplaceGrpcBinder(builder.Services);
        // Registered always (a few singletons); mapped only when Hosting:EnableReflection is on.
        builder.Services.AddGrpcReflection();

        builder.Services.AddSingleton<DrainState>();
        builder.Services.AddHostedService<DrainOnShutdown>();
        builder.Services.AddOptions<HostOptions>()
            .Configure<IOptions<HostingOptions>>((o, hosting) => o.ShutdownTimeout = hosting.Value.ShutdownTimeout);

        builder.Services.AddHealthChecks()
            // Liveness: the process answers. Nothing external, so a Redis or RabbitMQ outage never restarts pods.
            .AddCheck("self", () => HealthCheckResult.Healthy(), tags: [HealthTags.Live])
            .AddCheck<DrainHealthCheck>("draining", tags: [HealthTags.Ready]);
        // Each check's last result as a gauge (vigil_health_status), for alerts on what stays Degraded.
        builder.Services.AddSingleton<IHealthCheckPublisher, HealthMetrics>();
        builder.Services.Configure<HealthCheckPublisherOptions>(o =>
        {
            o.Delay = TimeSpan.FromSeconds(1);
            o.Period = HealthMetrics.Period;
        });
        builder.Services.AddGrpcHealthChecks(o =>
        {
            // The service name "" (the whole server) is its readiness; "liveness" depends on nothing external.
            o.Services.Map("", r => r.Tags.Contains(HealthTags.Ready));
            o.Services.Map("liveness", r => r.Tags.Contains(HealthTags.Live));
        });

        builder.AddVigilTelemetry();
        builder.AddVigilAuthentication();
        return builder;
    }

    /// <summary>Maps the health endpoints (HTTP and gRPC), metrics and reflection.</summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapVigilHealth();
        app.MapGrpcHealthChecksService().AllowAnonymous();
        app.MapVigilMetrics();
        if (app.Services.GetRequiredService<IOptions<HostingOptions>>().Value.EnableReflection)
        {
            app.MapGrpcReflectionService().AllowAnonymous();
        }
        return app;
    }
}
