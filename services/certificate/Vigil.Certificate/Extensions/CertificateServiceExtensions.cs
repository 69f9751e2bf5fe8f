using Vigil.Certificate.Consumers;
using Vigil.Certificate.Dashboard;
using Vigil.Certificate.Erasure;
using Vigil.Certificate.Results;
using Vigil.Certificate.Retention;
using Vigil.Certificate.Signing;
using Vigil.Certificate.Store;
using Vigil.Certificate.Verification;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Hosting;
using Vigil.ServiceDefaults.Messaging;
using Vigil.ServiceDefaults.Redis;
using Vigil.ServiceDefaults.Telemetry;

namespace Vigil.Certificate.Extensions;

/// <summary>The certificate service's wiring. No mail: the dashboard is the one place a result appears.</summary>
internal static class CertificateServiceExtensions
{
    public static WebApplicationBuilder AddCertificateService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults();
        builder.AddVigilRedis(defaultKeyPrefix: "vigil:certificate:");

        builder.Services.AddValidatedOptions<SigningOptions>(SigningOptions.Section);
        builder.Services.AddSingleton<CertificateSigner>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<CertificateKeys>();
        builder.Services.AddSingleton<CertificateStore>();
        builder.Services.AddSingleton<ResultProjector>();
        builder.Services.AddOptions<RetentionOptions>()
            .Bind(builder.Configuration.GetSection(RetentionOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<FactConsumerContext>();
        builder.Services.AddSingleton<PrivacyMetrics>();

        // One durable queue per consumer, with exactly the names the publishers pre-declare (EventTopology).
        builder.AddVigilMessaging(x =>
        {
            x.AddConsumer<SessionSubmittedConsumer>().Endpoint(e => e.Name = EventTopology.CertificateSessionSubmittedQueue);
            x.AddConsumer<SessionExpiredConsumer>().Endpoint(e => e.Name = EventTopology.CertificateSessionExpiredQueue);
            x.AddConsumer<BoardDecisionRecordedConsumer>().Endpoint(e => e.Name = EventTopology.CertificateBoardDecisionRecordedQueue);
            x.AddConsumer<CertificateErasureConsumer>().Endpoint(e => e.Name = EventTopology.CertificateLearnerErasureRequestedQueue);
        });
        builder.Services.AddVigilEventTopology();
        return builder;
    }

    public static WebApplication MapCertificateService(this WebApplication app)
    {
        app.MapServiceDefaults();
        app.MapGrpcService<DashboardGrpcService>();
        app.MapGrpcService<VerificationGrpcService>().AllowAnonymous();
        return app;
    }
}
