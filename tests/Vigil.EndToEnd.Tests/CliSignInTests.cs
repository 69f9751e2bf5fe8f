using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// `vigil login` against the real development provider (<see cref="SignInStack"/>), by the device authorization grant:
/// the test plays the user at the provider's pages (sign in as ada with her password, then sign the device in, or refuse)
/// while the CLI polls; the CLI keeps the tokens in the user's token file (0600, never printed), commands use them,
/// renew them with the refresh token before they expire, and `vigil logout` revokes the refresh token and forgets them.
/// </summary>
[Collection(StackCollection.Name)]
public sealed partial class CliSignInTests(SignInStack signIn) : IDisposable
{
    private readonly string _config = Directory.CreateTempSubdirectory("vigil-signin-").FullName;

    private string TokenPath => Path.Combine(_config, "vigil", "tokens.json");

    private (string, string) Config => ("XDG_CONFIG_HOME", _config);

    private string Gateway => signIn.Processes.Gateway.GrpcAddress.ToString().TrimEnd('/');

    [Fact]
    public async Task A_device_signed_in_at_the_provider_calls_with_the_stored_token_renews_it_and_signs_out()
    {
        using (var login = CliProcess.Start(["login", "--provider", signIn.Provider.Issuer.ToString()], Config))
        {
            var page = await UserPageAsync(login);
            await SignInAsAdaAndAnswerAsync(page, approve: true);
            var (code, stdout, stderr) = await login.ExitAsync();
            Assert.True(code == 0, $"vigil login exited {code}:\n{stdout}\n{stderr}");
            Assert.Contains("signed in at " + signIn.Provider.Issuer, stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("eyJ", stdout + stderr, StringComparison.Ordinal);
        }
        AssertOwnerOnly();
        var first = Stored();
        Assert.True(first["expires_at"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddMinutes(5));

        // A command without --token calls as ada with the stored token, and prints no token.
        var list = await CliProcess.RunAsync(["--gateway", Gateway, "session", "list"], Config);
        Assert.True(list.Code == 0, $"vigil session list exited {list.Code}:\n{list.Stdout}\n{list.Stderr}\n{signIn.Processes.Logs(20)}");
        Assert.DoesNotContain("eyJ", list.Stdout + list.Stderr, StringComparison.Ordinal);
        Assert.Equal(first.ToJsonString(), Stored().ToJsonString());

        // Within a minute of its expiry (as the client knows it), the next command renews it first with the refresh token.
        first["expires_at"] = DateTimeOffset.UtcNow.AddSeconds(30);
        await File.WriteAllTextAsync(TokenPath, first.ToJsonString());
        list = await CliProcess.RunAsync(["--gateway", Gateway, "session", "list"], Config);
        Assert.True(list.Code == 0, $"vigil session list after renewal exited {list.Code}:\n{list.Stdout}\n{list.Stderr}");
        var renewed = Stored();
        Assert.NotEqual(first["access_token"]!.GetValue<string>(), renewed["access_token"]!.GetValue<string>());
        Assert.True(renewed["expires_at"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddMinutes(5));
        AssertOwnerOnly();
        // The renewed access token is a working one: it reaches the session service (ada has no sessions there).
        using (var journey = signIn.NewJourney())
        {
            var mine = await journey.Sessions(renewed["access_token"]!.GetValue<string>()).ListMySessionsAsync(new Vigil.Contracts.Session.V1.ListMySessionsRequest());
            Assert.Empty(mine.Sessions);
        }

        // Sign-out: the file is gone and the provider no longer renews with that refresh token.
        var refreshToken = renewed["refresh_token"]!.GetValue<string>();
        var logout = await CliProcess.RunAsync(["logout"], Config);
        Assert.True(logout.Code == 0, logout.Stderr);
        Assert.Contains("refresh token revoked", logout.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(TokenPath));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => signIn.Provider.RefreshAsync(refreshToken, "vigil-cli", clientSecret: null));
        Assert.Contains("invalid_grant", refused.Message, StringComparison.Ordinal);

        var after = await CliProcess.RunAsync(["--gateway", Gateway, "session", "list"], Config);
        Assert.Equal(2, after.Code);
        Assert.Contains("vigil login", after.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_sign_in_refused_at_the_provider_ends_with_a_clear_error_and_no_tokens()
    {
        using var login = CliProcess.Start(["login", "--provider", signIn.Provider.Issuer.ToString()], Config);
        var page = await UserPageAsync(login);
        await SignInAsAdaAndAnswerAsync(page, approve: false);
        var (code, stdout, stderr) = await login.ExitAsync();
        Assert.Equal(1, code);
        Assert.Contains("refused at the identity provider (access_denied)", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(TokenPath));
        Assert.DoesNotContain("eyJ", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_code_nobody_enters_expires_with_a_clear_error_and_no_tokens()
    {
        // A provider of its own whose device codes live two seconds: the user never comes.
        await using var provider = await DevProvider.StartAsync(new Dictionary<string, string?> { ["DevProvider:DeviceCodeLifetime"] = "00:00:02" });
        using var login = CliProcess.Start(["login", "--provider", provider.Issuer.ToString()], Config);
        await UserPageAsync(login);
        var (code, stdout, stderr) = await login.ExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(1, code);
        Assert.Contains("The code expired before the device was signed in (expired_token)", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(TokenPath));
        Assert.DoesNotContain("eyJ", stdout + stderr, StringComparison.Ordinal);
    }

    /// <summary>What `vigil login` tells the user to open (the verification address with the code), once it has printed it.</summary>
    private static async Task<Uri> UserPageAsync(CliProcess login)
    {
        var shown = await login.LineAsync(l => l.Contains("enter the code", StringComparison.Ordinal));
        var code = shown[(shown.LastIndexOf(' ') + 1)..];
        var complete = await login.LineAsync(l => l.StartsWith("(or open ", StringComparison.Ordinal));
        var page = new Uri(complete["(or open ".Length..^1]);
        Assert.Contains(Uri.EscapeDataString(code), page.Query, StringComparison.Ordinal);
        return page;
    }

    /// <summary>The user at the provider's pages: the device page sends to the sign-in form, ada signs in, then signs the device in (or refuses).</summary>
    private static async Task SignInAsAdaAndAnswerAsync(Uri devicePage, bool approve)
    {
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true });
        using var loginPage = await http.GetAsync(devicePage);
        var loginHtml = await loginPage.Content.ReadAsStringAsync();
        Assert.Equal("/account/login", loginPage.RequestMessage!.RequestUri!.AbsolutePath);
        var returnUrl = WebUtility.HtmlDecode(Hidden().Match(loginHtml).Groups[1].Value);
        Assert.StartsWith("/connect/verify", returnUrl, StringComparison.Ordinal);

        using var verifyPage = await http.PostAsync(new Uri(devicePage, "/account/login"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = "ada", ["password"] = DevProvider.DemoPassword, ["returnUrl"] = returnUrl,
        }));
        var verifyHtml = await verifyPage.Content.ReadAsStringAsync();
        Assert.True(verifyPage.IsSuccessStatusCode, verifyHtml);
        var userCode = WebUtility.HtmlDecode(UserCode().Match(verifyHtml).Groups[1].Value);
        Assert.False(string.IsNullOrEmpty(userCode), verifyHtml);

        using var done = await http.PostAsync(new Uri(devicePage, "/connect/verify"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user_code"] = userCode, ["approve"] = approve ? "yes" : "no",
        }));
        var doneHtml = await done.Content.ReadAsStringAsync();
        Assert.Contains(approve ? "The device is signed in" : "The device was not signed in", doneHtml, StringComparison.Ordinal);
    }

    private void AssertOwnerOnly()
    {
        Assert.True(OperatingSystem.IsLinux(), "a Unix file mode to check");
        if (OperatingSystem.IsLinux()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(TokenPath));
    }

    private JsonObject Stored() => JsonNode.Parse(File.ReadAllText(TokenPath))!.AsObject();

    [GeneratedRegex("name=\"returnUrl\" value=\"([^\"]*)\"")]
    private static partial Regex Hidden();

    [GeneratedRegex("name=\"user_code\" value=\"([^\"]*)\"")]
    private static partial Regex UserCode();

    public void Dispose() => Directory.Delete(_config, recursive: true);
}
