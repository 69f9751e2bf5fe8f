using System.Net.Http.Json;
using System.Text.Json;

namespace Vigil.Cli.SignIn;

/// <summary>The provider's endpoints the client uses, from its discovery document (<c>/.well-known/openid-configuration</c>).</summary>
internal sealed record ProviderEndpoints(Uri Token, Uri? DeviceAuthorization, Uri? Revocation)
{
    /// <summary>Reads the discovery document of <paramref name="authority"/> (the issuer).</summary>
    public static async Task<ProviderEndpoints> DiscoverAsync(HttpClient http, Uri authority, CancellationToken cancellationToken)
    {
        var discovery = new Uri(authority.ToString().TrimEnd('/') + "/.well-known/openid-configuration");
        JsonElement document;
        try
        {
            document = await http.GetFromJsonAsync<JsonElement>(discovery, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new InvalidOperationException($"The identity provider {authority} could not be reached ({discovery}): {ex.Message}", ex);
        }
        if (!document.TryGetProperty("token_endpoint", out var token) || token.GetString() is not { Length: > 0 } tokenUrl)
        {
            throw new InvalidOperationException($"{discovery} names no token_endpoint: is {authority} an OpenID Connect provider?");
        }
        return new ProviderEndpoints(new Uri(tokenUrl), Optional(document, "device_authorization_endpoint"), Optional(document, "revocation_endpoint"));
    }

    private static Uri? Optional(JsonElement document, string name) =>
        document.TryGetProperty(name, out var value) && value.GetString() is { Length: > 0 } url ? new Uri(url) : null;
}
