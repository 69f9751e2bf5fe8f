using Vigil.Identity.Emails;
using Vigil.Identity.Erasure;
using Vigil.Identity.Grpc;
using Vigil.Identity.Photos;
using Vigil.Identity.Registration;
using Vigil.Identity.Storage;
using Vigil.Identity.Verification;
using Vigil.ServiceDefaults.Hosting;
using Vigil.ServiceDefaults.Redis;

namespace Vigil.Identity.Extensions;

/// <summary>The identity service's wiring.</summary>
internal static class IdentityServiceExtensions
{
    /// <summary>Keys shipped in appsettings.Development.json / appsettings.Testing.json: refused anywhere else.</summary>
    private static readonly string[] NonProductionKeyIds = ["dev-only-1", "testing-only-1"];

    public static WebApplicationBuilder AddIdentityService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults();
        builder.AddVigilRedis(defaultKeyPrefix: "vigil:identity:");

        var environment = builder.Environment;
        builder.Services.AddOptions<PhotoOptions>()
            .Bind(builder.Configuration.GetSection(PhotoOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => environment.IsDevelopment() || environment.IsEnvironment("Testing") || !o.EncryptionKeys.Any(k => NonProductionKeyIds.Contains(k.KeyId)),
                "Photos:EncryptionKeys holds a development/testing key outside Development and Testing: configure a real key.")
            .ValidateOnStart();
        builder.Services.AddOptions<EmailOptions>()
            .Bind(builder.Configuration.GetSection(EmailOptions.Section))
            .ValidateOnStart();
        builder.Services.AddOptions<IdentityOptions>()
            .Bind(builder.Configuration.GetSection(IdentityOptions.Section))
            .Validate(o => o.IdempotencyWindow > TimeSpan.Zero && o.EmailClaimGrace > TimeSpan.Zero, "Identity:IdempotencyWindow and Identity:EmailClaimGrace must be positive.")
            .ValidateOnStart();

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
        return builder;
    }

    public static WebApplication MapIdentityService(this WebApplication app)
    {
        app.MapServiceDefaults();
        app.MapGrpcService<IdentityGrpcService>();
        return app;
    }
}
