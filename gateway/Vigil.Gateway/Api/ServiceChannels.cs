using System.Collections.Concurrent;
using Grpc.Net.Client;
using Yarp.ReverseProxy;

namespace Vigil.Gateway.Api;

/// <summary>
/// gRPC channels from the gateway's own pages API to a service, choosing among the cluster's destinations
/// that YARP's active health checks currently consider healthy (all of them when none is known healthy).
/// </summary>
internal sealed class ServiceChannels(IProxyStateLookup proxyState) : IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    /// <summary>A channel to one replica of the cluster.</summary>
    public GrpcChannel For(string clusterId)
    {
        if (!proxyState.TryGetCluster(clusterId, out var cluster))
        {
            throw new InvalidOperationException($"No cluster '{clusterId}'.");
        }
        var available = cluster.DestinationsState.AvailableDestinations;
        var candidates = available.Count > 0 ? available : cluster.DestinationsState.AllDestinations;
        if (candidates.Count == 0) throw new InvalidOperationException($"Cluster '{clusterId}' has no destination.");
        var destination = candidates[Random.Shared.Next(candidates.Count)];
        var address = destination.Model.Config.Address;
        return _channels.GetOrAdd(address, a => GrpcChannel.ForAddress(a, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        }));
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values) channel.Dispose();
    }
}
