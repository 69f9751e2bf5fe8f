using Grpc.Core;
using Grpc.Net.ClientFactory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>gRPC clients for service-to-service calls, authenticated with the service's own token.</summary>
public static class ServiceClientExtensions
{
    /// <summary>
    /// Adds a typed gRPC client to another Vigil service at <paramref name="address"/> (read from the caller's
    /// validated options when the client is first made), sending this service's bearer token on every call.
    /// </summary>
    public static IHttpClientBuilder AddVigilServiceClient<TClient>(this IHostApplicationBuilder builder, Func<IServiceProvider, Uri> address)
        where TClient : class
    {
        return builder.Services.AddGrpcClient<TClient>((sp, o) => o.Address = address(sp))
            .AddCallCredentials(async (context, metadata, sp) =>
            {
                var token = await sp.GetRequiredService<ServiceTokenProvider>().GetTokenAsync(context.CancellationToken);
                metadata.Add("Authorization", "Bearer " + token);
            })
            .ConfigureChannel(o => o.UnsafeUseInsecureChannelCallCredentials = true);
    }
}
