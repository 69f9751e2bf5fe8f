using Vigil.Contracts.Events;
using Vigil.Identity.Admission;
using Vigil.Identity.Emails;
using Vigil.Identity.Erasure;
using Vigil.Identity.Grpc;
using Vigil.Identity.Photos;
using Vigil.Identity.Registration;
using Vigil.Identity.Retention;
using Vigil.Identity.Storage;
using Vigil.Identity.Verification;
using Vigil.ServiceDefaults.Hosting;
using Vigil.ServiceDefaults.Messaging;
using Vigil.ServiceDefaults.Redis;
using Vigil.ServiceDefaults.Telemetry;

namespace Vigil.Identity.Extensions;

/// <summary>The identity service's wiring.</summary>
internal static class IdentityServiceExtensions
{
    public static WebApplicationBuilder AddIdentityService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults();
        builder.AddVigilRedis(defaultKeyPrefix: "vigil:identity:");

        builder.Services.AddValidatedOptions<PhotoOptions>(PhotoOptions.Section);
        builder.Services.AddValidatedOptions<EmailOptions>(EmailOptions.Section);
        builder.Services.AddValidatedOptions<IdentityOptions>(IdentityOptions.Section);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<EmailChecker>();
        builder.Services.AddSingleton<PhotoInspector>();
        builder.Services.AddSingleton<PhotoCipher>();
        builder.Services.AddSingleton<IdentityKeys>();
        builder.Services.AddSingleton<IdentityStore>();
        // The features the one gRPC service hands each RPC to.
        builder.Services.AddSingleton<LearnerRegistration>();
        builder.Services.AddSingleton<VerificationSteps>();
        builder.Services.AddSingleton<StoredPhotos>();
        builder.Services.AddSingleton<PhotoUploads>();
        builder.Services.AddSingleton<LearnerErasure>();
        builder.Services.AddSingleton<PrivacyMetrics>();

        // Erasure requests (the session service owns them) and board decisions (the photos' appeal window).
        builder.AddVigilMessaging(x =>
        {
            x.AddConsumer<IdentityErasureConsumer>().Endpoint(e => e.Name = EventTopology.IdentityLearnerErasureRequestedQueue);
            x.AddConsumer<PhotoRetentionConsumer>().Endpoint(e => e.Name = EventTopology.IdentityBoardDecisionRecordedQueue);
        });
        builder.Services.AddVigilEventTopology();
        builder.Services.AddSingleton<ExamAdmission>();
        return builder;
    }

    public static WebApplication MapIdentityService(this WebApplication app)
    {
        app.MapServiceDefaults();
        app.MapGrpcService<IdentityGrpcService>();
        return app;
    }
}
