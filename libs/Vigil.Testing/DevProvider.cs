using System.Net.Http.Json;
using System.Text.Json;
using Vigil.Contracts.Auth;
using Vigil.ServiceDefaults.Auth;

namespace Vigil.Testing;

/// <summary>
/// The development OpenID Connect provider (dev/Vigil.DevProvider) as a real process in the Testing environment:
/// tokens for any test user (its test-user grant, Testing only), for the seeded demo users (password), for services
/// (client credentials), and key rotation on demand. <see cref="Shared"/> is started once per test run (the test
/// process) for the suites that only need tokens; a test that rotates keys or stops the provider starts its own.
/// </summary>
public sealed class DevProvider : IAsyncDisposable
{
    private static readonly Lazy<Task<DevProvider>> SharedInstance = new(StartSharedAsync);
    private readonly HttpClient _http;

    private DevProvider(ServiceProcess process)
    {
        Process = process;
        Issuer = new Uri($"http://127.0.0.1:{process.HttpPort}/");
        _http = new HttpClient { BaseAddress = Issuer, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The provider of this test run, started on first use.</summary>
    public static Task<DevProvider> Shared => SharedInstance.Value;

    /// <summary>The issuer, also Auth:Authority.</summary>
    public Uri Issuer { get; }

    /// <summary>The process (kill it to see Vigil without its provider).</summary>
    public ServiceProcess Process { get; }

    /// <summary>The client the tests use (password and test-user grants).</summary>
    public const string TestClient = "vigil-tests";

    /// <summary>Its secret (development only, in dev/Vigil.DevProvider/appsettings.json).</summary>
    public const string TestClientSecret = "dev-tests-secret";

    /// <summary>The password of the seeded demo users.</summary>
    public const string DemoPassword = "vigil-demo";

    private static async Task<DevProvider> StartSharedAsync()
    {
        var provider = await StartAsync();
        // Nobody disposes the shared one: it goes with the test process, not after it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { System.Diagnostics.Process.GetProcessById(provider.Process.Pid).Kill(); }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { /* already gone */ }
        };
        return provider;
    }

    /// <summary>Starts a provider of its own (Testing environment) on a free loopback port.</summary>
    public static async Task<DevProvider> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var port = ServiceProcess.FreePort();
        var all = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Testing",
            ["DOTNET_ENVIRONMENT"] = "Testing",
            ["DevProvider:Issuer"] = $"http://127.0.0.1:{port}/",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
        var process = await ServiceProcess.StartAsync("dev/Vigil.DevProvider", all, httpPort: port);
        return new DevProvider(process);
    }

    /// <summary>What a host needs to trust this provider through its metadata (instead of the test signer's static key).</summary>
    public IReadOnlyDictionary<string, string?> HostSettings => new Dictionary<string, string?>
    {
        ["Auth:Authority"] = Issuer.ToString(),
        ["Auth:Issuer"] = "",
        ["Auth:SigningKeys:0"] = "",
    };

    /// <summary>A token for a test user with these claims, from the test-user grant.</summary>
    public Task<string> TokenAsync(TokenSpec spec, TimeSpan? lifetime = null, string? audience = null) =>
        AccessTokenAsync(TestUserForm(spec, lifetime, audience));

    /// <summary>
    /// An access token and a refresh token for a test user (the test-user grant with <c>offline_access</c>): what a
    /// signed-in client holds. <paramref name="lifetime"/> applies to this access token only; a refreshed one lives the
    /// provider's usual lifetime.
    /// </summary>
    public async Task<TokenSet> TokenSetAsync(TokenSpec spec, TimeSpan? lifetime = null) =>
        TokenSet.From(await TokenResponseAsync([.. TestUserForm(spec, lifetime, audience: null), new("scope", "offline_access")]));

    /// <summary>New tokens for a refresh token of the tests' client; throws with the provider's error when it is refused (revoked, expired).</summary>
    public async Task<TokenSet> RefreshAsync(string refreshToken, string clientId = TestClient, string? clientSecret = TestClientSecret)
    {
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "refresh_token"), new("refresh_token", refreshToken), new("client_id", clientId) };
        if (clientSecret is not null) form.Add(new("client_secret", clientSecret));
        return TokenSet.From(await TokenResponseAsync(form));
    }

    /// <summary>A learner's token from the provider.</summary>
    public Task<string> LearnerAsync(string learnerId, string? name = null) =>
        TokenAsync(new TokenSpec(learnerId) { Roles = [VigilRoles.Learner], Name = name });

    /// <summary>A seeded demo user's token, by password.</summary>
    public Task<string> PasswordTokenAsync(string userName, string password = DemoPassword) => AccessTokenAsync(
    [
        new("grant_type", "password"), new("client_id", TestClient), new("client_secret", TestClientSecret),
        new("username", userName), new("password", password),
    ]);

    /// <summary>A service's token (client credentials).</summary>
    public Task<string> ClientCredentialsAsync(string clientId, string secret) => AccessTokenAsync(
    [
        new("grant_type", "client_credentials"), new("client_id", clientId), new("client_secret", secret),
    ]);

    /// <summary>A new key signs from now on; the old ones stay published. Returns the new key id.</summary>
    public async Task<string> RotateKeysAsync()
    {
        using var response = await _http.PostAsync("dev/keys/rotate", null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("signing").GetString()!;
    }

    /// <summary>Stops publishing every key but the signing one.</summary>
    public async Task RetireOldKeysAsync()
    {
        using var response = await _http.PostAsync("dev/keys/retire", null);
        response.EnsureSuccessStatusCode();
    }

    private static List<KeyValuePair<string, string>> TestUserForm(TokenSpec spec, TimeSpan? lifetime, string? audience)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "urn:vigil:dev:test-user"),
            new("client_id", TestClient),
            new("client_secret", TestClientSecret),
            new("subject", spec.Subject),
        };
        form.AddRange(spec.Roles.Select(r => KeyValuePair.Create("role", r)));
        form.AddRange(spec.BoardCourses.Select(c => KeyValuePair.Create("board_course", c)));
        form.AddRange(spec.StaffCourses.Select(c => KeyValuePair.Create("staff_course", c)));
        if (spec.Name is not null) form.Add(new("name", spec.Name));
        if (lifetime is { } l) form.Add(new("lifetime_seconds", ((int)l.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (audience is not null) form.Add(new("token_audience", audience));
        return form;
    }

    private async Task<string> AccessTokenAsync(IEnumerable<KeyValuePair<string, string>> form) =>
        (await TokenResponseAsync(form)).GetProperty("access_token").GetString()!;

    private async Task<JsonElement> TokenResponseAsync(IEnumerable<KeyValuePair<string, string>> form)
    {
        using var response = await _http.PostAsync("connect/token", new FormUrlEncodedContent(form));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The provider refused the token request: {(int)response.StatusCode} {body}");
        }
        return body;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Process.DisposeAsync();
    }
}

/// <summary>What a signed-in client holds: an access token and the refresh token that renews it.</summary>
public sealed record TokenSet(string AccessToken, string RefreshToken)
{
    internal static TokenSet From(JsonElement body) => new(
        body.GetProperty("access_token").GetString()!,
        body.TryGetProperty("refresh_token", out var refresh) ? refresh.GetString()! : throw new InvalidOperationException("The provider gave no refresh token: " + body));
}
