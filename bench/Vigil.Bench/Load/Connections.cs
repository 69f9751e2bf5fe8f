using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;

namespace Vigil.Bench.Load;

/// <summary>
/// gRPC channels over HTTP/2 cleartext, with the client side of each TCP connection bound to a chosen loopback
/// address (127.0.0.x) so that tens of thousands of connections do not run out of ephemeral ports on one
/// address. IP_BIND_ADDRESS_NO_PORT lets the kernel pick the port at connect time, per destination.
/// </summary>
internal static class Connections
{
    private const int SolIp = 0;
    private const int IpBindAddressNoPort = 24;

    /// <summary>A channel. <paramref name="multipleConnections"/>: open more connections past the server's
    /// stream limit per connection (as the gateway's HttpClient does); false: exactly one connection (a learner).</summary>
    public static GrpcChannel Channel(string address, IPAddress local, bool multipleConnections)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = multipleConnections,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = Timeout.InfiniteTimeSpan,
            ConnectCallback = async (ctx, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.SetRawSocketOption(SolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
                    socket.Bind(new IPEndPoint(local, 0));
                    await socket.ConnectAsync(ctx.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        });
    }

    /// <summary>Whether every address answers (127.0.0.0/8 is all loopback on Linux).</summary>
    public static List<IPAddress> Parse(IEnumerable<string> addresses) => [.. addresses.Select(IPAddress.Parse)];
}
