using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Vigil.ServiceDefaults.Hosting;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>
/// The identity provider's discovery document and signing keys (JWKS), read from <see cref="AuthOptions.Authority"/>
/// and kept: re-read in the background every <see cref="AuthOptions.MetadataRefreshInterval"/> (a key the provider
/// removed stops being accepted by then), and at once, waited for, when a token names a key (<c>kid</c>) not in the
/// cached set (a rotation is followed on the first token signed with the new key; at most once per
/// <see cref="AuthOptions.MetadataMinimumRefreshInterval"/>, so unknown kids cannot hammer the provider). While the
/// provider cannot be reached the cached keys stay in use; readiness reports how old they are
/// (<see cref="ProviderKeysHealthCheck"/>). Time is the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed partial class ProviderMetadata : BaseConfigurationManager, IConfigurationManager<OpenIdConnectConfiguration>, IDisposable
{
    private readonly AuthOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ProviderMetadata> _logger;
    private readonly HttpClient _http;
    private readonly HttpDocumentRetriever _retriever;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile OpenIdConnectConfiguration? _current;
    private DateTimeOffset _readAt;
    private DateTimeOffset _lastAttempt = DateTimeOffset.MinValue;
    private volatile bool _refreshRequested;
    private readonly Lock _backgroundLock = new();
    private Task? _background;

    /// <summary>Reads the metadata of the configured authority.</summary>
    public ProviderMetadata(IOptions<AuthOptions> options, IHostEnvironment environment, TimeProvider time, ILogger<ProviderMetadata> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _http = new HttpClient { Timeout = _options.MetadataTimeout };
        _retriever = new HttpDocumentRetriever(_http) { RequireHttps = _options.RequireHttpsMetadata ?? !environment.IsDevelopmentLike() };
        MetadataAddress = string.IsNullOrWhiteSpace(_options.Authority) ? "" : _options.Authority.TrimEnd('/') + "/.well-known/openid-configuration";
        // The token handler would otherwise keep validating with the configuration of its last success for an hour
        // (a retired key still accepted): this manager keeps the last keys read itself, and only those.
        UseLastKnownGoodConfiguration = false;
    }

    /// <summary>When the keys in use were last read from the provider (null: never).</summary>
    public DateTimeOffset? ReadAt => _current is null ? null : _readAt;

    /// <summary>Why the last attempt to read the metadata failed (null when it succeeded).</summary>
    public string? LastError { get; private set; }

    /// <summary>The key ids in use.</summary>
    public IReadOnlyList<string> KeyIds => _current?.SigningKeys.Select(k => k.KeyId ?? "").ToList() ?? [];

    /// <inheritdoc />
    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
    {
        var current = _current;
        var now = _time.GetUtcNow();
        if (current is not null)
        {
            if (_refreshRequested && now - _lastAttempt >= _options.MetadataMinimumRefreshInterval)
            {
                // A token named a key we do not have: wait for the provider's current keys.
                return await RefreshAsync(cancel).ConfigureAwait(false);
            }
            if (now - _readAt >= _options.MetadataRefreshInterval && now - _lastAttempt >= _options.MetadataMinimumRefreshInterval)
            {
                StartBackgroundRefresh();
            }
            return current;
        }
        return await RefreshAsync(cancel).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task<BaseConfiguration> GetBaseConfigurationAsync(CancellationToken cancel) =>
        await GetConfigurationAsync(cancel).ConfigureAwait(false);

    /// <inheritdoc />
    public override void RequestRefresh() => _refreshRequested = true;

    /// <summary>Starts reading the metadata in the background unless a read is under way (readiness, start).</summary>
    public void StartBackgroundRefresh()
    {
        lock (_backgroundLock)
        {
            if (_background is { IsCompleted: false }) return;
            _background = Task.Run(async () =>
            {
                try { await RefreshAsync(CancellationToken.None).ConfigureAwait(false); }
                catch (InvalidOperationException) { /* logged by RefreshAsync; the next attempt comes later */ }
            });
        }
    }

    private async Task<OpenIdConnectConfiguration> RefreshAsync(CancellationToken cancel)
    {
        var attemptFrom = _lastAttempt;
        await _gate.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            // Another caller refreshed while this one waited: take its result.
            if (_lastAttempt != attemptFrom && _current is not null) return _current;
            var now = _time.GetUtcNow();
            _lastAttempt = now;
            _refreshRequested = false;
            try
            {
                var read = await OpenIdConnectConfigurationRetriever.GetAsync(MetadataAddress, _retriever, cancel).ConfigureAwait(false);
                Check(read);
                var before = _current;
                _current = read;
                _readAt = now;
                LastError = null;
                if (before is null || !before.SigningKeys.Select(k => k.KeyId).SequenceEqual(read.SigningKeys.Select(k => k.KeyId)))
                {
                    LogKeysRead(_logger, MetadataAddress, string.Join(", ", read.SigningKeys.Select(k => k.KeyId)));
                }
                return read;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancel.IsCancellationRequested)
            {
                LastError = Describe(ex);
                LogReadFailed(_logger, MetadataAddress, LastError, _current is not null);
                return _current ?? throw new InvalidOperationException("The identity provider's keys could not be read: " + LastError, ex);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Check(OpenIdConnectConfiguration read)
    {
        if (!string.IsNullOrEmpty(_options.Issuer) && !string.Equals(read.Issuer, _options.Issuer, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the provider names itself '{read.Issuer}', not the configured Auth:Issuer '{_options.Issuer}'");
        }
        if (read.SigningKeys.Count == 0)
        {
            throw new InvalidOperationException("the provider publishes no signing keys");
        }
        if (read.SigningKeys.Any(k => k is SymmetricSecurityKey))
        {
            throw new InvalidOperationException("the provider publishes a symmetric key: only public (RSA, ECDSA) keys are trusted");
        }
    }

    private static string Describe(Exception ex)
    {
        var inner = ex;
        while (inner.InnerException is not null && inner is not HttpRequestException and not TaskCanceledException) inner = inner.InnerException;
        return inner switch
        {
            TaskCanceledException => "no answer within the metadata timeout",
            HttpRequestException h => "HTTP: " + h.Message,
            _ => inner.Message.Split('\n')[0],
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _gate.Dispose();
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Identity provider keys read from {Address}: {KeyIds}")]
    private static partial void LogKeysRead(ILogger logger, string address, string keyIds);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Identity provider metadata could not be read from {Address}: {Reason} (cached keys in use: {Cached})")]
    private static partial void LogReadFailed(ILogger logger, string address, string reason, bool cached);
}
