using Grpc.Core;
using Grpc.Net.Client;

namespace Vigil.Testing;

/// <summary>gRPC channels for tests, sending a bearer token on every call over plain h2c.</summary>
public static class TestChannel
{
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
}
