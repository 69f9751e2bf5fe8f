using Grpc.Core;
using Grpc.Net.ClientFactory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>gRPC clients for service-to-service calls, authenticated with the service's own token.</summary>
public static class ServiceClientExtensions
{
    /// <summary>
    /// Adds a typed gRPC client whose address is read from configuration (for example "Services:Identity"),
    /// sending this service's bearer token on every call.
    /// </summary>
    public static IHttpClientBuilder AddVigilServiceClient<TClient>(this IHostApplicationBuilder builder, string addressKey)
        where TClient : class
    {
        return builder.Services.AddGrpcClient<TClient>((sp, o) =>
            {
                var address = sp.GetRequiredService<IConfiguration>()[addressKey];
                if (string.IsNullOrEmpty(address))
                {
                    throw new InvalidOperationException($"Configuration '{addressKey}' (the address of a Vigil service) is not set.");
                }
                o.Address = new Uri(address);
            })
            .AddCallCredentials((context, metadata, sp) =>
            {
                metadata.Add("Authorization", "Bearer " + sp.GetRequiredService<ServiceTokenProvider>().GetToken());
                return Task.CompletedTask;
            })
            .ConfigureChannel(o => o.UnsafeUseInsecureChannelCallCredentials = true);
    }
}
