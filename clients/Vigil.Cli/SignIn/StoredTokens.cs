using System.Text.Json.Serialization;

namespace Vigil.Cli.SignIn;

/// <summary>
/// What <c>vigil login</c> keeps in the user's token file: the provider and client it signed in with, the access token,
/// when it expires (by the client's clock when it was received) and the refresh token, if the provider gave one.
/// </summary>
internal sealed record StoredTokens(
    [property: JsonPropertyName("authority")] Uri Authority,
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken);

/// <summary>A token endpoint's answer: the tokens, or the OAuth error and its description.</summary>
internal sealed record TokenResponse(string? AccessToken, string? RefreshToken, TimeSpan? ExpiresIn, string? Error, string? ErrorDescription)
{
    public bool Succeeded => AccessToken is not null && Error is null;

    /// <summary>"error: description", for a person.</summary>
    public string Describe() => ErrorDescription is { Length: > 0 } d ? $"{Error}: {d}" : Error ?? "no access token in the answer";
}
