using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Events;
using Vigil.Contracts.Identity.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Hosting;
using Vigil.ServiceDefaults.Messaging;
using Vigil.ServiceDefaults.Redis;
using Vigil.ServiceDefaults.Telemetry;
using Vigil.Session.Audit;
using Vigil.Session.Erasure;
using Vigil.Session.Exams;
using Vigil.Session.Identity;
using Vigil.Session.Monitoring;
using Vigil.Session.Options;
using Vigil.Session.Outbox;
using Vigil.Session.Results;
using Vigil.Session.Retention;
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
        // The session service owns erasure requests: it erases its part and records every service's report.
        builder.AddVigilMessaging(x =>
        {
            x.AddConsumer<SessionErasureConsumer>().Endpoint(e => e.Name = EventTopology.SessionLearnerErasureRequestedQueue);
            x.AddConsumer<ErasureReportConsumer>().Endpoint(e => e.Name = EventTopology.SessionLearnerErasureCompletedQueue);
        });
        builder.Services.AddVigilEventTopology();
        builder.Services.AddValidatedOptions<SessionServiceOptions>(SessionServiceOptions.Section);
        builder.Services.AddValidatedOptions<ServicesOptions>(ServicesOptions.Section);
        builder.AddVigilServiceClient<IdentityService.IdentityServiceClient>(sp => new Uri(sp.GetRequiredService<IOptions<ServicesOptions>>().Value.Identity));
        builder.Services.AddValidatedOptions<RetentionOptions>(RetentionOptions.Section);

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SessionKeys>();
        builder.Services.AddSingleton<ExamStore>();
        builder.Services.AddSingleton<ExamAccess>();
        builder.Services.AddSingleton<AuditTrail>();
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<SessionStore>();
        builder.Services.AddSingleton<SessionAccess>();
        builder.Services.AddSingleton<OutboxStore>();
        builder.Services.AddSingleton<SessionFinisher>();
        builder.Services.AddSingleton<ExamLoad>();
        builder.Services.AddSingleton<ExamStream>();
        builder.Services.AddSingleton<ProblemReports>();
        builder.Services.AddSingleton<IdentityGateway>();
        builder.Services.AddHostedService<SessionSweeper>();
        builder.Services.AddHostedService<OutboxRelay>();
        builder.Services.AddSingleton<ErasureStore>();
        builder.Services.AddSingleton<PrivacyMetrics>();
        builder.Services.AddHostedService<RetentionSweeper>();
        return builder;
    }

    public static WebApplication MapSessionService(this WebApplication app)
    {
        app.MapServiceDefaults();
        app.MapGrpcService<ExamGrpcService>();
        app.MapGrpcService<SessionGrpcService>();
        app.MapGrpcService<ExamBoardGrpcService>();
        app.MapGrpcService<ResultsGrpcService>();
        app.MapGrpcService<ErasureGrpcService>();
        return app;
    }
}
