using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Vigil.Gateway.Routing;

/// <summary>
/// Expands each configured destination whose address is a host name into one destination per address the
/// name resolves to, and resolves again every <see cref="GatewayOptions.DestinationRefreshInterval"/>. On
/// Kubernetes the names are headless Services, which answer one A record per ready pod: the gateway then
/// balances calls and streams per pod, health-checks each pod on its own management port, and sees a pod
/// added by the autoscaler (or gone) within the refresh interval.
/// <para>
/// YARP's own <c>DnsDestinationResolver</c> does the same expansion but does not fit: it names destinations
/// by their position in the answer ("session[0]"), so a reordered answer moves a pod's health and load
/// counters to another pod; and it throws when a lookup fails, which stops the gateway from starting while a
/// Service has no ready pod yet, and, on a refresh, makes YARP fall back to polling every five minutes. Here a
/// destination is named by its address ("session@10.1.2.3"), a failed or empty lookup keeps the addresses last
/// seen (none at start: the cluster has no destination and the gateway is not ready until it has one), and
/// the next refresh comes at the usual interval. Addresses written as IP literals are kept as they are.
/// </para>
/// </summary>
internal sealed partial class PodDestinationResolver(IOptionsMonitor<GatewayOptions> options, TimeProvider time, ILogger<PodDestinationResolver> logger) : IDestinationResolver
{
    private readonly ConcurrentDictionary<string, IPAddress[]> _lastSeen = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The name lookup: the system resolver (DNS, /etc/hosts), as every other client on the host.</summary>
    internal Func<string, CancellationToken, Task<IPAddress[]>> Lookup { get; init; } = Dns.GetHostAddressesAsync;

    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, config) in destinations)
        {
            var address = new Uri(config.Address);
            if (address.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
            {
                resolved[name] = config;
                continue;
            }
            foreach (var ip in await ResolveAsync(address.DnsSafeHost, cancellationToken))
            {
                resolved[$"{name}@{ip}"] = config with
                {
                    Address = WithHost(config.Address, ip),
                    // The management port of the same pod (a health address on another host is kept as it is).
                    Health = config.Health is { Length: > 0 } health && SameHost(health, address) ? WithHost(health, ip) : config.Health,
                    Host = address.Authority,
                };
            }
        }
        // YARP resolves again when the token fires; the source is not disposed, the token outlives this call.
        var refresh = new CancellationTokenSource(options.CurrentValue.DestinationRefreshInterval, time);
        return new ResolvedDestinationCollection(resolved, new CancellationChangeToken(refresh.Token));
    }

    private async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        try
        {
            var found = await Lookup(host, cancellationToken);
            if (found.Length > 0)
            {
                var sorted = found.Distinct().OrderBy(a => a.ToString(), StringComparer.Ordinal).ToArray();
                if (_lastSeen.TryGetValue(host, out var before) && !before.SequenceEqual(sorted)) LogChanged(logger, host, string.Join(", ", sorted.Select(a => a.ToString())));
                _lastSeen[host] = sorted;
                return sorted;
            }
            LogNoAddress(logger, host, null);
        }
        catch (SocketException ex)
        {
            LogNoAddress(logger, host, ex);
        }
        return _lastSeen.TryGetValue(host, out var last) ? last : [];
    }

    private static bool SameHost(string other, Uri address) =>
        Uri.TryCreate(other, UriKind.Absolute, out var uri) && string.Equals(uri.DnsSafeHost, address.DnsSafeHost, StringComparison.OrdinalIgnoreCase);

    private static string WithHost(string address, IPAddress ip) =>
        new UriBuilder(address) { Host = ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString() }.Uri.ToString();

    [LoggerMessage(Level = LogLevel.Information, Message = "Destinations of {Host} are now {Addresses}")]
    private static partial void LogChanged(ILogger logger, string host, string addresses);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Host} resolved to no address; keeping the addresses seen last")]
    private static partial void LogNoAddress(ILogger logger, string host, Exception? exception);
}
