using Microsoft.Extensions.DependencyInjection.Extensions;
using Vigil.Contracts.Identity.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Hosting;
using Vigil.ServiceDefaults.Messaging;
using Vigil.ServiceDefaults.Redis;
using Vigil.Session.Exams;
using Vigil.Session.Identity;
using Vigil.Session.Monitoring;
using Vigil.Session.Options;
using Vigil.Session.Outbox;
using Vigil.Session.Review;
using Vigil.Session.Sessions;
using Vigil.Session.Storage;

namespace Vigil.Session.Extensions;

/// <summary>The session service's wiring.</summary>
internal static class SessionServiceExtensions
{
    public static WebApplicationBuilder AddSessionService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults();
        builder.AddVigilRedis(defaultKeyPrefix: "vigil:session:");
        builder.AddVigilMessaging();
        builder.Services.AddVigilEventTopology();
        builder.AddVigilServiceClient<IdentityService.IdentityServiceClient>("Services:Identity");

        builder.Services.AddOptions<SessionServiceOptions>()
            .Bind(builder.Configuration.GetSection(SessionServiceOptions.Section))
            .ValidateDataAnnotations()
            .Validate(SessionServiceOptions.IsValid, "Session: intervals, leases and timeouts must be positive.")
            .ValidateOnStart();
        builder.Services.AddOptions<IdentityAddressCheck>()
            .Validate(_ => !string.IsNullOrWhiteSpace(builder.Configuration["Services:Identity"]), "Services:Identity (the identity service's gRPC address) is required.")
            .ValidateOnStart();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SessionKeys>();
        builder.Services.AddSingleton<ExamStore>();
        builder.Services.AddSingleton<ExamAccess>();
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<SessionStore>();
        builder.Services.AddSingleton<SessionAccess>();
        builder.Services.AddSingleton<OutboxStore>();
        builder.Services.AddSingleton<SessionFinisher>();
        builder.Services.AddSingleton<ExamStream>();
        builder.Services.AddSingleton<IdentityGateway>();
        builder.Services.AddHostedService<SessionSweeper>();
        builder.Services.AddHostedService<OutboxRelay>();
        return builder;
    }

    public static WebApplication MapSessionService(this WebApplication app)
    {
        app.MapServiceDefaults();
        app.MapGrpcService<ExamGrpcService>();
        app.MapGrpcService<SessionGrpcService>();
        app.MapGrpcService<ExamBoardGrpcService>();
        return app;
    }

    /// <summary>Marker for the start-time check of the identity address.</summary>
    private sealed class IdentityAddressCheck;
}
