using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Vigil.Contracts.Certificate.V1;
using Vigil.Testing;

namespace Vigil.Gateway.Tests;

/// <summary>The gateway in process (Testing environment), in front of real loopback backends.</summary>
/// <param name="clock">The gateway's clock (a fake one to age a sign-in session), else the system's.</param>
public sealed class GatewayHost(IDictionary<string, string?> settings, TimeProvider? clock = null) : WebApplicationFactory<GatewayApp>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        if (clock is not null) builder.ConfigureTestServices(s => s.AddSingleton(clock));
        var all = new Dictionary<string, string?>
        {
            ["Hosting:DrainDelay"] = "00:00:00.050",
        };
        foreach (var (k, v) in TestTokens.HostSettings) all[k] = v;
        foreach (var (k, v) in GatewaySettings.HealthChecks(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1))) all[k] = v;
        foreach (var (k, v) in settings) all[k] = v;
        // UseSetting, not ConfigureAppConfiguration: Program reads the routes and the JWT keys while building,
        // before configuration added by the factory would be visible.
        foreach (var (k, v) in all) builder.UseSetting(k, v);
    }

    public GrpcChannel Channel(string? token)
    {
        return TestChannel.Create(Server.BaseAddress, token, new GrpcChannelOptions { HttpHandler = Server.CreateHandler() });
    }

    /// <summary>Waits until the gateway's calls reach every one of <paramref name="backends"/> (each answers VerifyCertificate with its name).</summary>
    public async Task SettleAsync(params Backend[] backends)
    {
        using var channel = Channel(null);
        var client = new CertificateVerificationService.CertificateVerificationServiceClient(channel);
        var seen = new HashSet<string>();
        await Eventually.Async(async () =>
        {
            seen.Add((await client.VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = "X" })).Certificate.CertificateId);
            return backends.All(b => seen.Contains(b.Name));
        }, () => $"calls through the gateway to reach {string.Join(" and ", backends.Select(b => b.Name))}; reached: {string.Join(", ", seen)}");
    }
}
