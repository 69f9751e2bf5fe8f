using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;

namespace Vigil.Gateway.SignIn;

/// <summary>
/// Keeps a cookie session's access token fresh: on each request of a signed-in session, once less than
/// <see cref="SignInOptions.RefreshBefore"/> is left of the access token, the refresh token buys a new one at the
/// provider's token endpoint (and the cookie is renewed with it). No refresh token, a refused refresh (expired,
/// revoked) or an expired access token the provider cannot renew ends the session: the API answers 401 and the
/// page sends the person to sign in again. The token in use for this request is left in
/// <c>HttpContext.Items[<see cref="AccessTokenItem"/>]</c> for the pages' API. Time is the injected
/// <see cref="TimeProvider"/>; tokens never reach a log.
/// </summary>
internal sealed partial class SessionTokens(IOptions<SignInOptions> options, IOptionsMonitor<OpenIdConnectOptions> provider, TimeProvider time, ILogger<SessionTokens> logger)
{
    /// <summary>Where the request's access token is left.</summary>
    public const string AccessTokenItem = "vigil:access-token";

    /// <summary>Where the session's start is kept in the cookie (its lifetime counts from there, renewals or not).</summary>
    private const string StartedItem = "vigil:session-start";

    /// <summary>When the session is made (the provider's callback signs in): its start.</summary>
    public Task SigningInAsync(CookieSigningInContext context)
    {
        if (!context.Properties.Items.ContainsKey(StartedItem))
        {
            context.Properties.Items[StartedItem] = time.GetUtcNow().ToString("o", CultureInfo.InvariantCulture);
        }
        return Task.CompletedTask;
    }

    public async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var properties = context.Properties;
        // A renewed cookie (after a refresh) gets a new expiry; the session still ends CookieLifetime after its start.
        if (!properties.Items.TryGetValue(StartedItem, out var started)
            || !DateTimeOffset.TryParse(started, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var startedAt)
            || time.GetUtcNow() >= startedAt + options.Value.CookieLifetime)
        {
            await EndAsync(context, "the session reached its lifetime (Gateway:SignIn:CookieLifetime)");
            return;
        }
        var accessToken = properties.GetTokenValue("access_token");
        if (string.IsNullOrEmpty(accessToken) || !options.Value.Enabled
            || !DateTimeOffset.TryParse(properties.GetTokenValue("expires_at"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var expiresAt))
        {
            await EndAsync(context, "the session holds no access token");
            return;
        }
        var now = time.GetUtcNow();
        if (expiresAt - now > options.Value.RefreshBefore)
        {
            context.HttpContext.Items[AccessTokenItem] = accessToken;
            return;
        }
        var refreshToken = properties.GetTokenValue("refresh_token");
        if (string.IsNullOrEmpty(refreshToken))
        {
            await EndAsync(context, "the access token expires and the session has no refresh token");
            return;
        }
        var refreshed = await RefreshAsync(refreshToken, context.HttpContext.RequestAborted);
        if (refreshed is null)
        {
            if (expiresAt > now)
            {
                // The provider did not answer: the token still in hand serves until it expires.
                context.HttpContext.Items[AccessTokenItem] = accessToken;
                return;
            }
            await EndAsync(context, "the access token expired and the provider could not be reached to refresh it");
            return;
        }
        if (refreshed.Value.Error is { } error)
        {
            await EndAsync(context, "the provider refused the refresh: " + error);
            return;
        }
        var (newAccess, newRefresh, lifetime, _) = refreshed.Value;
        properties.UpdateTokenValue("access_token", newAccess!);
        if (!string.IsNullOrEmpty(newRefresh)) properties.UpdateTokenValue("refresh_token", newRefresh);
        properties.UpdateTokenValue("expires_at", (now + lifetime).ToString("o", CultureInfo.InvariantCulture));
        context.ShouldRenew = true;
        context.HttpContext.Items[AccessTokenItem] = newAccess;
        Refreshed(logger, now + lifetime);
    }

    /// <summary>The provider's answer to a refresh: new tokens, or the error it gave; null when it could not be reached.</summary>
    private async Task<(string? AccessToken, string? RefreshToken, TimeSpan Lifetime, string? Error)?> RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        var o = provider.Get(SignInExtensions.ProviderScheme);
        try
        {
            var configuration = await o.ConfigurationManager!.GetConfigurationAsync(cancellationToken);
            using var request = new HttpRequestMessage(HttpMethod.Post, configuration.TokenEndpoint)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "refresh_token",
                    ["refresh_token"] = refreshToken,
                    ["client_id"] = o.ClientId!,
                    ["client_secret"] = o.ClientSecret!,
                }),
            };
            using var response = await o.Backchannel.SendAsync(request, cancellationToken);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var root = body.RootElement;
            if (!response.IsSuccessStatusCode || !root.TryGetProperty("access_token", out var access))
            {
                var error = root.TryGetProperty("error", out var e) ? e.GetString() : null;
                return (null, null, TimeSpan.Zero, $"{(int)response.StatusCode} {error ?? "no access token"}");
            }
            var seconds = root.TryGetProperty("expires_in", out var expiresIn) && expiresIn.TryGetInt32(out var s) ? s : 300;
            return (access.GetString(), root.TryGetProperty("refresh_token", out var r) ? r.GetString() : null, TimeSpan.FromSeconds(seconds), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException or JsonException or IOException)
        {
            ProviderUnreachable(logger, ex.GetType().Name, ex.Message);
            return null;
        }
    }

    private async Task EndAsync(CookieValidatePrincipalContext context, string why)
    {
        SessionEnded(logger, why);
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(SignInExtensions.CookieScheme);
    }

    /// <summary>The provider's callback failed (a refused or tampered sign-in): logged, the page says sign-in failed.</summary>
    public void SignInFailed(Exception? failure) => SignInFailure(logger, failure?.Message ?? "unknown");

    [LoggerMessage(Level = LogLevel.Debug, Message = "A session's access token was refreshed; it expires at {ExpiresAt:o}")]
    private static partial void Refreshed(ILogger logger, DateTimeOffset expiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "A pages session ended: {Why}")]
    private static partial void SessionEnded(ILogger logger, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The identity provider could not be reached to refresh a session's token: {Error} {Message}")]
    private static partial void ProviderUnreachable(ILogger logger, string error, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A sign-in at the identity provider failed: {Reason}")]
    private static partial void SignInFailure(ILogger logger, string reason);
}
