using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using Vigil.DevProvider.Extensions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Vigil.DevProvider.Accounts;

/// <summary>Registers the configured clients in the in-memory store at start.</summary>
internal sealed class ClientSeeder(IServiceProvider services, IOptions<DevProviderOptions> options, IHostEnvironment environment) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DbContext>().Database.EnsureCreatedAsync(cancellationToken);
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        foreach (var client in options.Value.Clients)
        {
            if (await manager.FindByClientIdAsync(client.ClientId, cancellationToken) is not null) continue;
            await manager.CreateAsync(Describe(client), cancellationToken);
        }
    }

    private OpenIddictApplicationDescriptor Describe(DevClient client)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = client.ClientId,
            ClientSecret = client.Secret,
            ClientType = client.Secret is null ? ClientTypes.Public : ClientTypes.Confidential,
            DisplayName = client.ClientId,
        };
        var audienceScope = Permissions.Prefixes.Scope + options.Value.Audience;
        descriptor.Permissions.UnionWith([Permissions.Endpoints.Token, audienceScope, Permissions.Scopes.Profile]);
        if (client.Service)
        {
            descriptor.Permissions.Add(Permissions.GrantTypes.ClientCredentials);
        }
        if (client.Password)
        {
            descriptor.Permissions.UnionWith([Permissions.GrantTypes.Password, Permissions.GrantTypes.RefreshToken]);
            if (environment.IsEnvironment("Testing"))
            {
                descriptor.Permissions.Add(Permissions.Prefixes.GrantType + DevProviderExtensions.TestUserGrant);
            }
        }
        var redirectUris = client.RedirectUris.ToList();
        var postLogoutUris = client.PostLogoutRedirectUris.ToList();
        if (client.ClientId == options.Value.GatewayClientId)
        {
            foreach (var url in options.Value.GatewayUrls.Where(u => !string.IsNullOrWhiteSpace(u)).Select(u => u.TrimEnd('/')))
            {
                redirectUris.Add(url + "/signin-oidc");
                postLogoutUris.Add(url + "/signout-callback-oidc");
            }
        }
        if (redirectUris.Count > 0)
        {
            descriptor.Permissions.UnionWith([
                Permissions.Endpoints.Authorization, Permissions.Endpoints.EndSession,
                Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code,
            ]);
            descriptor.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
            foreach (var uri in redirectUris.Distinct(StringComparer.Ordinal)) descriptor.RedirectUris.Add(new Uri(uri));
            foreach (var uri in postLogoutUris.Distinct(StringComparer.Ordinal)) descriptor.PostLogoutRedirectUris.Add(new Uri(uri));
        }
        if (client.DeviceFlow)
        {
            descriptor.Permissions.UnionWith([
                Permissions.Endpoints.DeviceAuthorization, Permissions.Endpoints.Revocation, Permissions.GrantTypes.DeviceCode, Permissions.GrantTypes.RefreshToken,
                Permissions.Prefixes.Scope + Scopes.OfflineAccess,
            ]);
        }
        if (redirectUris.Count > 0 || client.Password)
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Scope + Scopes.OfflineAccess);
        }
        return descriptor;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
