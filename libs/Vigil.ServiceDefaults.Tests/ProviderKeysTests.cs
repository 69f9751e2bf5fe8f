using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using Vigil.Contracts.Auth;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Tests.Probe;
using Vigil.Testing;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>
/// A service trusting the real development provider through its metadata (Auth:Authority): tokens it issues are
/// accepted, a key rotation is followed without a restart (the new kid at once, the retired key refused after the
/// refresh interval on the service's clock), odd tokens are refused with their reason, and with the provider down the
/// cached keys keep working while readiness turns Degraded, then Unhealthy.
/// </summary>
public sealed class ProviderKeysTests
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task A_key_rotation_is_followed_without_a_restart()
    {
        await using var provider = await DevProvider.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(provider, clock);
        var before = await provider.LearnerAsync("rotating-1");
        await AssertAcceptedAsync(app, before);

        var newKid = await provider.RotateKeysAsync();
        var after = await provider.LearnerAsync("rotating-1");
        Assert.Contains(newKid, Header(after), StringComparison.Ordinal);
        // The new kid is not in the cached keys: they are read again at once, and the token is accepted first time.
        await AssertAcceptedAsync(app, after);
        await AssertAcceptedAsync(app, before);

        await provider.RetireOldKeysAsync();
        // Until the next refresh the old key is still cached; once the refresh interval has passed, it is gone.
        clock.Advance(Refresh);
        await Eventually.FailsWithAsync(StatusCode.Unauthenticated, () => WhoamiAsync(app, before), "the retired key refused");
        var ex = await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, () => WhoamiAsync(app, before));
        Assert.Equal("TOKEN_UNKNOWN_KEY", RpcAssert.ErrorReason(ex));
        await AssertAcceptedAsync(app, after);
    }

    [Fact]
    public async Task With_the_provider_down_cached_keys_keep_working_and_readiness_says_so()
    {
        var provider = await DevProvider.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(provider, clock);
        var token = await provider.LearnerAsync("offline-1");
        await AssertAcceptedAsync(app, token);
        Assert.Equal(HealthStatus.Healthy, (await ReadinessAsync(app)).Status);

        await provider.DisposeAsync();
        clock.Advance(Refresh);
        await AssertAcceptedAsync(app, token);
        var degraded = await Eventually.ObjectAsync(async () =>
        {
            await AssertAcceptedAsync(app, token);
            var entry = await ReadinessAsync(app);
            return entry.Status == HealthStatus.Degraded ? (object?)entry : null;
        }, () => "readiness Degraded while the provider is down");
        Assert.Contains("cached keys", ((HealthReportEntry)degraded).Description, StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromHours(6));
        var unready = await ReadinessAsync(app);
        Assert.Equal(HealthStatus.Unhealthy, unready.Status);
        Assert.Contains("could not be refreshed for", unready.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Odd_tokens_are_refused_with_their_reason()
    {
        var provider = await DevProvider.Shared;
        await using var app = await StartAsync(provider, TimeProvider.System, new() { ["Auth:ClockSkew"] = "00:00:00" });
        var learner = new TokenSpec("odd-1") { Roles = [VigilRoles.Learner] };

        await AssertRefusedAsync(app, await provider.TokenAsync(learner, audience: "someone-else"), "TOKEN_WRONG_AUDIENCE");
        // Not signed by the provider: a key it does not publish (the kit's test signer), or no signature at all.
        await AssertRefusedAsync(app, TestTokens.Mint(learner with { Issuer = provider.Issuer.ToString() }), "TOKEN_UNKNOWN_KEY");
        await AssertRefusedAsync(app, TestTokens.Mint(learner with { Issuer = provider.Issuer.ToString(), Unsigned = true }), "TOKEN_UNSIGNED");
        await AssertRefusedAsync(app, TestTokens.Mint(learner with
        {
            Issuer = provider.Issuer.ToString(),
            Key = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "not-published" },
        }), "TOKEN_UNKNOWN_KEY");
        await AssertRefusedAsync(app, TestTokens.Mint(learner with { Issuer = provider.Issuer.ToString(), Hmac = new byte[32] }), "TOKEN_ALGORITHM_REFUSED");

        // A token of the provider that expires: accepted, then refused as expired.
        var shortLived = await provider.TokenAsync(learner, lifetime: TimeSpan.FromSeconds(2));
        await AssertAcceptedAsync(app, shortLived);
        await Eventually.FailsWithAsync(StatusCode.Unauthenticated, () => WhoamiAsync(app, shortLived), "the provider's token expired");
        await AssertRefusedAsync(app, shortLived, "TOKEN_EXPIRED");
    }

    private static async Task<WebApplication> StartAsync(DevProvider provider, TimeProvider clock, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>(provider.HostSettings)
        {
            ["Auth:MetadataRefreshInterval"] = Refresh.ToString(),
            ["Auth:MetadataMinimumRefreshInterval"] = "00:00:00",
        };
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        return await TestHost.StartAsync(settings: settings, services: s => s.AddSingleton(clock));
    }

    private static async Task WhoamiAsync(WebApplication app, string token) =>
        await new ProbeService.ProbeServiceClient(app.Channel(token)).WhoamiAsync(new WhoamiRequest());

    private static async Task AssertAcceptedAsync(WebApplication app, string token)
    {
        var me = await new ProbeService.ProbeServiceClient(app.Channel(token)).WhoamiAsync(new WhoamiRequest());
        Assert.True(me.Learner);
    }

    private static async Task AssertRefusedAsync(WebApplication app, string token, string reason)
    {
        var ex = await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, () => WhoamiAsync(app, token));
        Assert.Equal(reason, RpcAssert.ErrorReason(ex));
    }

    private static async Task<HealthReportEntry> ReadinessAsync(WebApplication app) =>
        (await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "identity-provider")).Entries["identity-provider"];

    private static string Header(string token) =>
        System.Text.Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(token.Split('.')[0]));
}
