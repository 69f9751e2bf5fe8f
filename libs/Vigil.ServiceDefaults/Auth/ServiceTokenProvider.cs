using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>
/// The token a service presents when it calls another service. With <see cref="AuthOptions.ClientId"/>: a
/// client-credentials token from the provider's token endpoint (read from its metadata), cached and fetched again
/// before it expires (when less than a fifth of its lifetime, or a minute, is left); else the configured
/// <see cref="AuthOptions.ServiceToken"/>; else none (a call to another service is then Unavailable, saying what to configure).
/// </summary>
public sealed partial class ServiceTokenProvider(
    IOptions<AuthOptions> options,
    ProviderMetadata metadata,
    TimeProvider time,
    ILogger<ServiceTokenProvider> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private string? _token;
    private DateTimeOffset _renewAfter;

    /// <summary>How many tokens were fetched from the provider (for tests: a cached token is not fetched again).</summary>
    public int Fetched { get; private set; }

    /// <summary>The bearer token to present now.</summary>
    public async ValueTask<string> GetTokenAsync(CancellationToken cancel = default)
    {
        var o = options.Value;
        if (!string.IsNullOrWhiteSpace(o.ClientId))
        {
            if (_token is { } cached && time.GetUtcNow() < _renewAfter) return cached;
            return await FetchAsync(o, cancel).ConfigureAwait(false);
        }
        if (!string.IsNullOrEmpty(o.ServiceToken)) return o.ServiceToken;
        throw new ServiceUnavailableException("This service has no credentials for calling other services: configure Auth:ClientId and Auth:ClientSecret.", TimeSpan.FromSeconds(5));
    }

    private async Task<string> FetchAsync(AuthOptions o, CancellationToken cancel)
    {
        await _gate.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            if (_token is { } cached && time.GetUtcNow() < _renewAfter) return cached;
            var endpoint = (await metadata.GetConfigurationAsync(cancel).ConfigureAwait(false)).TokenEndpoint;
            using var response = await _http.PostAsync(endpoint, new FormUrlEncodedContent(
            [
                new("grant_type", "client_credentials"),
                new("client_id", o.ClientId!),
                new("client_secret", o.ClientSecret!),
            ]), cancel).ConfigureAwait(false);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancel).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode || !body.TryGetProperty("access_token", out var token))
            {
                var error = body.TryGetProperty("error", out var e) ? e.GetString() : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                LogRefused(logger, o.ClientId!, error ?? "?");
                throw new ServiceUnavailableException($"The identity provider refused this service's client credentials ({error}).", TimeSpan.FromSeconds(5));
            }
            var lifetime = TimeSpan.FromSeconds(body.TryGetProperty("expires_in", out var expires) ? expires.GetInt32() : 300);
            var margin = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(1).Ticks, lifetime.Ticks / 5));
            _renewAfter = time.GetUtcNow() + (lifetime > margin ? lifetime - margin : lifetime / 2);
            _token = token.GetString()!;
            Fetched++;
            return _token;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException && !cancel.IsCancellationRequested)
        {
            LogUnreachable(logger, o.ClientId!, ex.Message.Split('\n')[0]);
            if (_token is { } stillValid && time.GetUtcNow() < _renewAfter + TimeSpan.FromSeconds(30)) return stillValid;
            throw new ServiceUnavailableException("The identity provider cannot be reached for this service's token: retry shortly.", TimeSpan.FromSeconds(2));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _gate.Dispose();
    }

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "The identity provider refused the client credentials of {ClientId}: {Error}")]
    private static partial void LogRefused(ILogger logger, string clientId, string error);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "The identity provider could not be reached for {ClientId}'s token: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string clientId, string reason);
}
