using System.Net.Http.Json;
using System.Text.Json;

namespace Vigil.Cli.Cli;

/// <summary>
/// Tokens from an OpenID Connect provider by the resource owner password grant, for the demo's users of the
/// development provider (dev/Vigil.DevProvider: its public client <c>vigil-cli</c> may use the password grant
/// there; a platform's provider would not offer it). The token endpoint comes from the provider's discovery document.
/// </summary>
internal sealed class ProviderTokens(Uri authority, string clientId = ProviderTokens.DefaultClientId) : IDisposable
{
    public const string DefaultClientId = "vigil-cli";
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private Uri? _tokenEndpoint;

    /// <summary>An access token of <paramref name="userName"/>, for Vigil's audience scope.</summary>
    public async Task<string> PasswordAsync(string userName, string password, string scope, CancellationToken cancellationToken)
    {
        _tokenEndpoint ??= (await SignIn.ProviderEndpoints.DiscoverAsync(_http, authority, cancellationToken)).Token;
        using var response = await _http.PostAsync(_tokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["client_id"] = clientId,
            ["username"] = userName,
            ["password"] = password,
            ["scope"] = scope,
        }), cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        if (!response.IsSuccessStatusCode || !body.TryGetProperty("access_token", out var token))
        {
            var error = body.TryGetProperty("error_description", out var d) ? d.GetString() : body.TryGetProperty("error", out var e) ? e.GetString() : null;
            throw new InvalidOperationException($"The identity provider refused a token for {userName}: {(int)response.StatusCode} {error}");
        }
        return token.GetString()!;
    }

    public void Dispose() => _http.Dispose();
}
