using System.CommandLine;
using System.Text.Json.Nodes;
using Vigil.Cli.Cli;
using Vigil.Cli.SignIn;

namespace Vigil.Cli.Commands;

/// <summary><c>vigil login</c> (the device authorization grant at the platform's provider) and <c>vigil logout</c>.</summary>
internal static class SignInCommands
{
    /// <summary>The development provider's public client for the CLI (dev/Vigil.DevProvider); a platform registers its own.</summary>
    public const string DefaultClientId = "vigil-cli";

    public static Command Login(VigilCommandLine cli)
    {
        var provider = new Option<string?>("--provider")
        {
            HelpName = "URL",
            Description = "The identity provider's address, its issuer [default: VIGIL_PROVIDER]",
        };
        provider.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (!IsHttp(value)) result.AddError($"--provider takes the identity provider's http:// or https:// address (its issuer), not '{value}'.");
        });
        var clientId = new Option<string>("--client-id")
        {
            HelpName = "CLIENT",
            Description = "The client id the provider knows the proctoring client by",
            DefaultValueFactory = _ => DefaultClientId,
        };
        var login = new Command("login", "Sign in at the identity provider: open the address shown, enter the code; the tokens are kept for the next commands") { provider, clientId };
        login.SetAction(async (parse, cancellationToken) =>
        {
            var output = cli.OutputFor(parse);
            var url = parse.GetValue(provider) ?? Environment.GetEnvironmentVariable("VIGIL_PROVIDER");
            if (!IsHttp(url)) throw new UsageException("vigil login needs the identity provider's address: --provider URL or VIGIL_PROVIDER.");
            var file = TokenFile.ForUser();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var tokens = await new DeviceLogin(http, TimeProvider.System, output).RunAsync(new Uri(url!), parse.GetValue(clientId)!, file, cancellationToken);
            output.Ok($"signed in at {tokens.Authority}; tokens kept in {file.Path}{(tokens.RefreshToken is null ? " (no refresh token: sign in again when it expires)" : "")}");
            output.Emit(new JsonObject
            {
                ["signedIn"] = true,
                ["authority"] = tokens.Authority.ToString(),
                ["tokenFile"] = file.Path,
                ["expiresAt"] = tokens.ExpiresAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["refreshable"] = tokens.RefreshToken is not null,
            });
            return 0;
        });
        return login;
    }

    public static Command Logout(VigilCommandLine cli)
    {
        var logout = new Command("logout", "Forget the stored tokens (and revoke the refresh token at the provider, if it can revoke)");
        logout.SetAction(async (parse, cancellationToken) =>
        {
            var output = cli.OutputFor(parse);
            var file = TokenFile.ForUser();
            StoredTokens? tokens;
            try
            {
                tokens = file.Read();
            }
            catch (InvalidOperationException)
            {
                tokens = null; // unreadable: deleted below all the same
            }
            var revoked = false;
            string? problem = null;
            if (tokens?.RefreshToken is { } refreshToken)
            {
                try
                {
                    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
                    var endpoints = await ProviderEndpoints.DiscoverAsync(http, tokens.Authority, cancellationToken);
                    revoked = await new OidcClient(http, endpoints, tokens.ClientId).RevokeAsync(refreshToken, "refresh_token", cancellationToken);
                    if (!revoked) problem = endpoints.Revocation is null ? "the provider has no revocation endpoint" : "the provider refused to revoke it";
                }
                catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    problem = "the provider did not answer: " + ex.Message;
                }
            }
            var deleted = file.Delete();
            if (!deleted) output.Line("Not signed in: there is no token file " + file.Path);
            else output.Ok($"signed out: {file.Path} deleted" + (revoked ? ", refresh token revoked at the provider" : problem is null ? "" : $" (refresh token not revoked: {problem}; it lapses on its own)"));
            output.Emit(new JsonObject { ["signedOut"] = deleted, ["revoked"] = revoked, ["tokenFile"] = file.Path });
            return 0;
        });
        return logout;
    }

    private static bool IsHttp(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
