using System.Net.Http.Json;
using System.Text.Json;

namespace Vigil.Cli.SignIn;

/// <summary>A device sign-in's start: what the user is asked to do, and the code the client polls with.</summary>
internal sealed record DeviceAuthorization(string DeviceCode, string UserCode, Uri VerificationUri, Uri? VerificationUriComplete, TimeSpan ExpiresIn, TimeSpan? Interval);

/// <summary>
/// The client's side of the provider's OAuth endpoints for a public client (no secret): the device authorization
/// grant, the refresh token grant, token revocation. Every answer is read, errors included; nothing here prints a token.
/// </summary>
internal sealed class OidcClient(HttpClient http, ProviderEndpoints endpoints, string clientId)
{
    /// <summary>The scopes asked for: Vigil's audience, the user's profile, and a refresh token.</summary>
    public const string Scopes = "openid profile offline_access vigil";

    public string ClientId => clientId;

    /// <summary>Starts a device sign-in (RFC 8628 §3.1).</summary>
    public async Task<DeviceAuthorization> StartDeviceAsync(CancellationToken cancellationToken)
    {
        var endpoint = endpoints.DeviceAuthorization
            ?? throw new InvalidOperationException("The identity provider offers no device sign-in (no device_authorization_endpoint in its discovery document).");
        using var response = await http.PostAsync(endpoint, Form(new() { ["client_id"] = clientId, ["scope"] = Scopes }), cancellationToken);
        var body = await ReadAsync(response, cancellationToken);
        if (!response.IsSuccessStatusCode || String(body, "device_code") is not { } deviceCode || String(body, "user_code") is not { } userCode
            || String(body, "verification_uri") is not { } verification)
        {
            throw new InvalidOperationException($"The identity provider refused to start a device sign-in for {clientId}: {(int)response.StatusCode} {Describe(body)}");
        }
        return new DeviceAuthorization(deviceCode, userCode, new Uri(verification),
            String(body, "verification_uri_complete") is { } complete ? new Uri(complete) : null,
            Seconds(body, "expires_in") ?? TimeSpan.FromMinutes(5), Seconds(body, "interval"));
    }

    /// <summary>One poll of the token endpoint with the device code.</summary>
    public Task<TokenResponse> PollAsync(string deviceCode, CancellationToken cancellationToken) => TokenAsync(new()
    {
        ["grant_type"] = "urn:ietf:params:oauth:grant-type:device_code",
        ["device_code"] = deviceCode,
        ["client_id"] = clientId,
    }, cancellationToken);

    /// <summary>New tokens for a refresh token.</summary>
    public Task<TokenResponse> RefreshAsync(string refreshToken, CancellationToken cancellationToken) => TokenAsync(new()
    {
        ["grant_type"] = "refresh_token",
        ["refresh_token"] = refreshToken,
        ["client_id"] = clientId,
    }, cancellationToken);

    /// <summary>Revokes a token at the provider (RFC 7009); false when it has no revocation endpoint or refused.</summary>
    public async Task<bool> RevokeAsync(string token, string typeHint, CancellationToken cancellationToken)
    {
        if (endpoints.Revocation is not { } endpoint) return false;
        using var response = await http.PostAsync(endpoint, Form(new() { ["token"] = token, ["token_type_hint"] = typeHint, ["client_id"] = clientId }), cancellationToken);
        return response.IsSuccessStatusCode;
    }

    private async Task<TokenResponse> TokenAsync(Dictionary<string, string> form, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(endpoints.Token, Form(form), cancellationToken);
        var body = await ReadAsync(response, cancellationToken);
        if (String(body, "error") is { } error)
        {
            return new TokenResponse(null, null, null, error, String(body, "error_description"));
        }
        if (!response.IsSuccessStatusCode || String(body, "access_token") is not { } accessToken)
        {
            return new TokenResponse(null, null, null, "invalid_response", $"{(int)response.StatusCode} and no access token");
        }
        return new TokenResponse(accessToken, String(body, "refresh_token"), Seconds(body, "expires_in"), null, null);
    }

    private static FormUrlEncodedContent Form(Dictionary<string, string> values) => new(values);

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private static string? String(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;

    private static TimeSpan? Seconds(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var s) ? TimeSpan.FromSeconds(s) : null;

    private static string Describe(JsonElement body) =>
        String(body, "error_description") is { } d ? $"{String(body, "error")}: {d}" : String(body, "error") ?? "no answer";
}
