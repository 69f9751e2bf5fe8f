using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Tests.Probe;
using Vigil.Testing;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>
/// Service to service: with Auth:ClientId a service gets its token from the real development provider by client
/// credentials, presents the same token while it is fresh, and fetches a new one before it expires (on the service's
/// clock). The token is a service's: it names the client and carries the service role, not a learner's.
/// </summary>
public sealed class ServiceTokenTests
{
    [Fact]
    public async Task Client_credentials_tokens_are_cached_and_refreshed_before_expiry()
    {
        var provider = await DevProvider.Shared;
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = new Dictionary<string, string?>(provider.HostSettings)
        {
            ["Auth:ClientId"] = "vigil-session",
            ["Auth:ClientSecret"] = "dev-session-secret",
            ["Auth:ServiceToken"] = "",
        };
        await using var app = await TestHost.StartAsync(settings: settings, services: s => s.AddSingleton<TimeProvider>(clock));
        var tokens = app.Services.GetRequiredService<ServiceTokenProvider>();

        var first = await tokens.GetTokenAsync();
        var me = await new ProbeService.ProbeServiceClient(app.Channel(first)).WhoamiAsync(new WhoamiRequest());
        Assert.Equal("vigil-session", me.Subject);
        Assert.False(me.Learner);
        Assert.Equal(first, await tokens.GetTokenAsync());
        Assert.Equal(1, tokens.Fetched);

        // The provider's tokens live 15 minutes; a new one is fetched once less than a fifth is left.
        clock.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(first, await tokens.GetTokenAsync());
        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        var second = await tokens.GetTokenAsync();
        Assert.Equal(2, tokens.Fetched);
        Assert.NotEqual(first, second);
        Assert.Equal("vigil-session", (await new ProbeService.ProbeServiceClient(app.Channel(second)).WhoamiAsync(new WhoamiRequest())).Subject);
    }

    [Fact]
    public async Task A_wrong_client_secret_is_Unavailable_with_the_providers_reason_not_a_crash()
    {
        var provider = await DevProvider.Shared;
        var settings = new Dictionary<string, string?>(provider.HostSettings)
        {
            ["Auth:ClientId"] = "vigil-session",
            ["Auth:ClientSecret"] = "not-the-secret",
        };
        await using var app = await TestHost.StartAsync(settings: settings);
        var ex = await Assert.ThrowsAsync<Vigil.ServiceDefaults.Errors.ServiceUnavailableException>(async () =>
            await app.Services.GetRequiredService<ServiceTokenProvider>().GetTokenAsync());
        Assert.Contains("invalid_client", ex.Message, StringComparison.Ordinal);
    }
}
