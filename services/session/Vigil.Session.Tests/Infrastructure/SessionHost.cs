using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Vigil.Contracts.Identity.V1;
using Vigil.Testing;

namespace Vigil.Session.Tests.Infrastructure;

/// <summary>
/// The session service in process (one "replica"), on the real Redis and RabbitMQ, its identity client routed to
/// the identity service hosted in the same test process.
/// </summary>
public sealed class SessionHost : VigilServiceFactory<SessionApp>
{
    private readonly Func<HttpMessageHandler> _identityHandler;

    public SessionHost(string keyPrefix, Func<HttpMessageHandler> identityHandler)
        : base("session", new Dictionary<string, string?>
        {
            ["Session:KeyPrefix"] = keyPrefix,
            ["Session:SweepInterval"] = "00:00:00.100",
            ["Session:OutboxPollInterval"] = "00:00:00.100",
            ["Services:Identity"] = "http://identity.test",
        })
    {
        _identityHandler = identityHandler;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        // The JWT validation and MassTransit read Auth and RabbitMq while the builder runs, before the factory's app
        // configuration is applied: host settings are there in time.
        builder.UseSetting("RabbitMq:Uri", TestEnvironment.RabbitMq("session"));
        builder.UseSetting("Redis:Configuration", TestEnvironment.Redis);
        builder.UseSetting("Auth:DevelopmentKey", TestTokens.Key);
        builder.UseSetting("Auth:Issuer", TestTokens.Issuer);
        builder.UseSetting("Auth:Audience", TestTokens.Audience);
        builder.ConfigureTestServices(services =>
            services.AddGrpcClient<IdentityService.IdentityServiceClient>()
                .ConfigurePrimaryHttpMessageHandler(_identityHandler));
    }
}
