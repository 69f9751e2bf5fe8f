using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Vigil.Contracts.Identity.V1;
using Vigil.Testing;

namespace Vigil.Session.Tests.Infrastructure;

/// <summary>
/// The session service in process (one "replica"), on the real Redis and RabbitMQ, its identity client routed to
/// the identity service hosted in the same test process, its time from the suite's fake clock: deadlines,
/// heartbeat gaps, the sweepers and the outbox poll move only when the test advances it.
/// </summary>
public sealed class SessionHost : VigilServiceFactory<SessionApp>
{
    private readonly TimeProvider _clock;
    private readonly Func<HttpMessageHandler> _identityHandler;

    /// <param name="keyPrefix">The Redis key space (replicas of one deployment share it).</param>
    /// <param name="clock">The time the service reads (a <c>FakeTimeProvider</c> shared by the replicas).</param>
    /// <param name="identityHandler">How the identity client reaches the identity service.</param>
    /// <param name="identityAddress">The identity address (only used when the handler really connects).</param>
    /// <param name="rabbitMq">Another broker URI (e.g. one that does not answer).</param>
    public SessionHost(string keyPrefix, TimeProvider clock, Func<HttpMessageHandler> identityHandler, string identityAddress = "http://identity.test", string? rabbitMq = null)
        : base("session", new Dictionary<string, string?>
        {
            ["Redis:KeyPrefix"] = keyPrefix,
            ["Session:SweepInterval"] = ProcessStack.Span(SessionFixture.SweepInterval),
            ["Session:OutboxPollInterval"] = ProcessStack.Span(SessionFixture.OutboxPollInterval),
            ["Session:IdentityCallTimeout"] = "00:00:02",
            ["Services:Identity"] = identityAddress,
            ["RabbitMq:Uri"] = rabbitMq ?? TestEnvironment.RabbitMq("session"),
        })
    {
        _clock = clock;
        _identityHandler = identityHandler;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton(_clock);
            services.AddGrpcClient<IdentityService.IdentityServiceClient>()
                .ConfigurePrimaryHttpMessageHandler(_identityHandler);
        });
    }
}
