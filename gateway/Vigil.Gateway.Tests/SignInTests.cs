using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Vigil.Testing;

namespace Vigil.Gateway.Tests;

/// <summary>
/// The pages' sign-in against the real development provider (a process): the code flow with PKCE from /signin to the
/// provider's login page and back to /signin-oidc, the cookie session it leaves, the pages' API with that cookie
/// (the backend gets the session's access token), the refresh before expiry, the session's end (sign-out, cookie
/// lifetime, a provider that cannot renew an expired token). HTTP clients follow the redirects by hand, so every
/// address on the way is seen. The provider runs from its build output (dev/Vigil.DevProvider, built with the solution).
/// </summary>
public sealed class SignInTests : IAsyncLifetime
{
    private const string GatewayBase = "http://localhost";
    private DevProvider _provider = null!;
    private Backend _backend = null!;

    public async Task InitializeAsync()
    {
        _provider = await DevProvider.StartAsync(new Dictionary<string, string?> { ["DevProvider:GatewayUrls:0"] = GatewayBase });
        _backend = await Backend.StartAsync("certificate");
    }

    [Fact]
    public async Task Without_a_session_the_API_is_401_and_signin_goes_to_the_providers_authorization_endpoint_with_PKCE()
    {
        await using var gateway = Gateway();
        using var http = Client(gateway);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/dashboard")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/dashboard/watch")).StatusCode);
        Assert.Equal(0, _backend.Calls);

        var signin = await http.GetAsync("/signin");
        Assert.Equal(HttpStatusCode.Redirect, signin.StatusCode);
        var location = signin.Headers.Location!.ToString();
        Assert.StartsWith(_provider.Issuer + "connect/authorize?", location, StringComparison.Ordinal);
        var query = System.Web.HttpUtility.ParseQueryString(signin.Headers.Location.Query);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.False(string.IsNullOrEmpty(query["code_challenge"]));
        Assert.Equal(GatewayBase + "/signin-oidc", query["redirect_uri"]);
        Assert.Equal("openid profile offline_access vigil", query["scope"]);
        Assert.DoesNotContain("token", location, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_signed_in_session_calls_the_backend_with_the_users_access_token_and_signout_ends_it()
    {
        await using var gateway = Gateway();
        using var http = Client(gateway);
        var visited = await SignInAsync(http, "ada");
        Assert.DoesNotContain(visited, u => u.Contains("token", StringComparison.OrdinalIgnoreCase));

        using (var me = JsonDocument.Parse(await http.GetStringAsync("/api/me")))
        {
            Assert.Equal("ada", me.RootElement.GetProperty("subject").GetString());
            Assert.Equal("Ada Lovelace", me.RootElement.GetProperty("name").GetString());
            Assert.True(me.RootElement.GetProperty("session").GetBoolean());
        }
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/dashboard")).StatusCode);
        var token = AccessToken();
        Assert.Equal("ada", token.Subject);
        Assert.Equal(_provider.Issuer.ToString(), token.Issuer);
        Assert.Contains("vigil", token.Audiences);

        var signout = await http.PostAsync("/signout", null);
        Assert.Equal(HttpStatusCode.Redirect, signout.StatusCode);
        var end = signout.Headers.Location!.ToString();
        Assert.StartsWith(_provider.Issuer + "connect/logout?", end, StringComparison.Ordinal);
        Assert.Contains("post_logout_redirect_uri=http%3A%2F%2Flocalhost%2Fsignout-callback-oidc", end, StringComparison.Ordinal);
        Assert.DoesNotContain("id_token_hint", end, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task The_access_token_is_refreshed_before_it_expires_and_the_session_ends_with_the_cookie_lifetime()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = Gateway(clock, new() { ["Gateway:SignIn:CookieLifetime"] = "01:00:00" });
        using var http = Client(gateway);
        await SignInAsync(http, "grace");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/dashboard")).StatusCode);
        var first = _backend.LastAuthorization;

        // 13 minutes of a 15-minute token: still the same token, the cookie is not rewritten.
        clock.Advance(TimeSpan.FromMinutes(13));
        var same = await http.GetAsync("/api/dashboard");
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        Assert.Equal(first, _backend.LastAuthorization);
        Assert.False(same.Headers.Contains("Set-Cookie"));

        // Less than a minute left: a new access token from the refresh token, and the cookie renewed with it.
        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(10));
        var refreshed = await http.GetAsync("/api/dashboard");
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        Assert.NotEqual(first, _backend.LastAuthorization);
        Assert.Equal("grace", AccessToken().Subject);
        Assert.Contains(refreshed.Headers.GetValues("Set-Cookie"), c => c.StartsWith("vigil-session", StringComparison.Ordinal));

        // The session lasts the cookie's lifetime (here one hour) whatever the refreshes: then sign in again.
        clock.Advance(TimeSpan.FromMinutes(47));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task A_provider_that_cannot_renew_the_token_ends_the_session_once_the_token_has_expired()
    {
        await using var provider = await DevProvider.StartAsync(new Dictionary<string, string?> { ["DevProvider:GatewayUrls:0"] = GatewayBase });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = Gateway(clock, new() { ["Gateway:SignIn:Authority"] = provider.Issuer.ToString() });
        using var http = Client(gateway);
        await SignInAsync(http, "alan", provider);
        await provider.Process.KillAsync();

        // Near expiry, the provider gone: the token in hand serves until it expires.
        clock.Advance(TimeSpan.FromMinutes(14) + TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/me")).StatusCode);
        // Expired and not renewable: the session ends.
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task Sign_in_settings_are_validated_at_start()
    {
        await using var gateway = Gateway(settings: new() { ["Gateway:SignIn:ClientSecret"] = "", ["Gateway:SignIn:Scopes:0"] = "profile" });
        var ex = Assert.ThrowsAny<Exception>(() => gateway.Server);
        Assert.Contains("Gateway:SignIn:ClientSecret is required", ex.ToString(), StringComparison.Ordinal);
        Assert.Contains("Gateway:SignIn:Scopes must contain openid", ex.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The code flow as a browser follows it: /signin, the provider's login page and password, its authorization endpoint, the callback. Returns every address visited.</summary>
    private async Task<List<string>> SignInAsync(HttpClient gateway, string user, DevProvider? provider = null)
    {
        provider ??= _provider;
        var visited = new List<string>();
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() });
        var location = (await gateway.GetAsync("/signin")).Headers.Location!;
        for (var hop = 0; hop < 10; hop++)
        {
            visited.Add(location.ToString());
            if (location.IsAbsoluteUri && location.ToString().StartsWith(provider.Issuer.ToString(), StringComparison.Ordinal))
            {
                var response = await browser.GetAsync(location);
                if (location.AbsolutePath == "/account/login")
                {
                    var returnUrl = System.Web.HttpUtility.ParseQueryString(location.Query)["ReturnUrl"]!;
                    response = await browser.PostAsync(new Uri(provider.Issuer, "account/login"), new FormUrlEncodedContent(new Dictionary<string, string>
                    {
                        ["username"] = user, ["password"] = DevProvider.DemoPassword, ["returnUrl"] = returnUrl,
                    }));
                }
                Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{location}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                location = response.Headers.Location!.IsAbsoluteUri ? response.Headers.Location : new Uri(provider.Issuer, response.Headers.Location);
                continue;
            }
            // Back at the gateway: the callback, then the dashboard.
            var back = await gateway.GetAsync(location.IsAbsoluteUri ? location.PathAndQuery : location.ToString());
            Assert.True(back.StatusCode == HttpStatusCode.Redirect, $"{location}: {(int)back.StatusCode} {await back.Content.ReadAsStringAsync()}");
            Assert.Equal("/dashboard", back.Headers.Location!.ToString());
            visited.Add(back.Headers.Location.ToString());
            return visited;
        }
        throw new InvalidOperationException("The sign-in did not come back: " + string.Join(" -> ", visited));
    }

    private JsonWebToken AccessToken()
    {
        var header = _backend.LastAuthorization;
        Assert.NotNull(header);
        Assert.StartsWith("Bearer ", header, StringComparison.Ordinal);
        return new JsonWebToken(header["Bearer ".Length..]);
    }

    private GatewayHost Gateway(TimeProvider? clock = null, Dictionary<string, string?>? settings = null)
    {
        var all = GatewaySettings.Merge(
            GatewayTests.Everywhere((_backend.Address, null)),
            new Dictionary<string, string?>
            {
                ["Gateway:SignIn:Authority"] = _provider.Issuer.ToString(),
                ["Gateway:SignIn:ClientId"] = "vigil-gateway",
                ["Gateway:SignIn:ClientSecret"] = "dev-gateway-secret",
            });
        foreach (var (k, v) in settings ?? []) all[k] = v;
        return new GatewayHost(all, clock);
    }

    private static HttpClient Client(GatewayHost gateway) =>
        gateway.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true, BaseAddress = new Uri(GatewayBase) });

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        await _provider.DisposeAsync();
    }
}
