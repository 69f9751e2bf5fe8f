using Grpc.Core;
using Grpc.Net.Client;

namespace Vigil.Cli.Cli;

/// <summary>The channel to the gateway: h2c by default, TLS for https addresses.</summary>
internal sealed class GatewayConnection : IDisposable
{
    public const string DefaultGateway = "http://127.0.0.1:5100";

    private readonly GrpcChannel _channel;

    public GatewayConnection(string address)
    {
        Address = address;
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            },
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        });
    }

    public string Address { get; }

    public CallInvoker Invoker => _channel.CreateCallInvoker();

    /// <summary>Call options carrying a bearer token.</summary>
    public static CallOptions With(string? token, CancellationToken cancellationToken = default, TimeSpan? timeout = null)
    {
        var headers = new Metadata();
        if (!string.IsNullOrEmpty(token)) headers.Add("authorization", "Bearer " + token);
        return new CallOptions(headers, timeout is null ? null : DateTime.UtcNow + timeout.Value, cancellationToken);
    }

    public void Dispose() => _channel.Dispose();
}
