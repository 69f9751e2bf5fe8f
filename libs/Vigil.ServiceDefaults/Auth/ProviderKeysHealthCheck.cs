using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>
/// Readiness of token validation when keys come from the provider's metadata: Healthy while the keys were read
/// recently; Degraded (still ready: tokens are checked against the cached keys) when the last read failed or the
/// keys are older than twice the refresh interval; Unhealthy when no key was ever read, or none could be read for
/// <see cref="AuthOptions.KeysUnreadyAfter"/> (a provider that rotated keys meanwhile would see its new tokens
/// refused: better out of rotation and alerting than answering wrongly).
/// </summary>
internal sealed class ProviderKeysHealthCheck(ProviderMetadata metadata, IOptions<AuthOptions> options, TimeProvider time) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        var readAt = metadata.ReadAt;
        var data = new Dictionary<string, object> { ["authority"] = o.Authority ?? "" };
        if (readAt is null)
        {
            metadata.StartBackgroundRefresh();
            return Task.FromResult(HealthCheckResult.Unhealthy(
                "no signing key read from the identity provider yet" + (metadata.LastError is { } e ? ": " + e : ""), data: data));
        }
        var age = time.GetUtcNow() - readAt.Value;
        data["keys_age_seconds"] = (long)age.TotalSeconds;
        data["key_ids"] = string.Join(",", metadata.KeyIds);
        if (age >= o.MetadataRefreshInterval) metadata.StartBackgroundRefresh();
        if (age >= o.KeysUnreadyAfter)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(
                $"the identity provider's keys could not be refreshed for {age.TotalMinutes:0} min (limit {o.KeysUnreadyAfter.TotalMinutes:0} min): {metadata.LastError}", data: data));
        }
        if (metadata.LastError is not null || age >= 2 * o.MetadataRefreshInterval)
        {
            return Task.FromResult(HealthCheckResult.Degraded(
                $"validating with cached keys read {age.TotalMinutes:0} min ago; the provider cannot be read: {metadata.LastError}", data: data));
        }
        return Task.FromResult(HealthCheckResult.Healthy($"keys read {age.TotalSeconds:0} s ago", data));
    }
}
