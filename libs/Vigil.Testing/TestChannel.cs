using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace Vigil.Testing;

/// <summary>gRPC channels for tests, sending a bearer token on every call over plain h2c.</summary>
public static class TestChannel
{
    /// <summary>The largest message a test client accepts (review photos are large).</summary>
    public const int MaxReceiveMessageSize = 16 * 1024 * 1024;

    /// <summary>A channel to <paramref name="address"/> with <paramref name="options"/>, sending <paramref name="token"/> (none when null).</summary>
    public static GrpcChannel Create(Uri address, string? token, GrpcChannelOptions? options = null)
    {
        options ??= new GrpcChannelOptions();
        if (token is not null)
        {
            options.Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("Authorization", "Bearer " + token);
                return Task.CompletedTask;
            }));
            options.UnsafeUseInsecureChannelCallCredentials = true;
        }
        return GrpcChannel.ForAddress(address, options);
    }

    /// <summary>
    /// A channel to a process's address as a test client sees it: large messages accepted, no client-side retries
    /// (a test sees every failure as it happened).
    /// </summary>
    public static GrpcChannel ToProcess(Uri address, string? token) =>
        Create(address, token, new GrpcChannelOptions { MaxReceiveMessageSize = MaxReceiveMessageSize, MaxRetryAttempts = 0 });

    /// <summary>Calls on a shared <paramref name="channel"/> as the bearer of <paramref name="token"/> (anonymous when null): no channel per caller.</summary>
    public static CallInvoker As(ChannelBase channel, string? token) =>
        token is null
            ? channel.CreateCallInvoker()
            : channel.Intercept(metadata =>
            {
                metadata.Add("authorization", "Bearer " + token);
                return metadata;
            });

    /// <summary>An endpoint at a process's address (<see cref="ToProcess"/>), e.g. one replica among several.</summary>
    public static IGrpcEndpoint Endpoint(Uri address) => new AddressEndpoint(address);

    private sealed record AddressEndpoint(Uri Address) : IGrpcEndpoint
    {
        public GrpcChannel Channel(string? token) => ToProcess(Address, token);
    }
}
