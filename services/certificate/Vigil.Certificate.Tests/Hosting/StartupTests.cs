using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Vigil.Certificate.Tests.Infrastructure;
using Vigil.Contracts.Certificate.V1;
using Vigil.ServiceDefaults.Health;
using Vigil.Testing;
using static Vigil.Certificate.Tests.Infrastructure.Events;

namespace Vigil.Certificate.Tests.Hosting;

[Collection(NotYetRunningCollection.Name)]
public sealed class StartupTests
{
    [Theory]
    [InlineData(null, "Certificates:SigningKeys is empty")]
    [InlineData("development-only-not-a-secret", "development-only certificate signing key is refused")]
    public void Outside_development_the_service_refuses_to_start_without_a_real_signing_key(string? keyId, string expected)
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var settings = new Dictionary<string, string?>
        {
            ["Auth:SigningKeys:0"] = ec.ExportSubjectPublicKeyInfoPem(),
            ["RabbitMq:Uri"] = CertificateHost.AmqpUri,
        };
        if (keyId is not null)
        {
            settings["Certificates:ActiveKeyId"] = keyId;
            settings["Certificates:SigningKeys:0:KeyId"] = keyId;
            settings["Certificates:SigningKeys:0:PrivateKeyPem"] = TestKeys.NewPem();
        }
        using var factory = new ProductionFactory(settings);
        var ex = Assert.ThrowsAny<Exception>(() => factory.Services);
        Assert.Contains(expected, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_shutdown_an_open_dashboard_stream_is_told_to_reconnect()
    {
        await using var host = new CertificateHost();
        await host.StartAsync();
        var (learner, session) = (NewId("learner"), NewId("session"));
        await host.PublishAsync(Submitted(session, learner));
        await host.WaitEntryAsync(learner, session, _ => true);

        using var call = host.Dashboard(TestTokens.Learner(learner)).WatchDashboard(new WatchDashboardRequest());
        Assert.True(await call.ResponseStream.MoveNext());
        host.Factory.Services.GetRequiredService<DrainState>().MoveStreams();
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }

    private sealed class ProductionFactory(IDictionary<string, string?> settings) : VigilServiceFactory<CertificateApp>(CertificateHost.VirtualHost, settings)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Production");
        }
    }
}
