using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Vigil.DevProvider.Accounts;
using Vigil.DevProvider.Endpoints;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Vigil.DevProvider.Extensions;

/// <summary>The provider's wiring: OpenIddict's server on an in-memory store, a cookie for the login page, the endpoints.</summary>
internal static class DevProviderExtensions
{
    /// <summary>The grant that makes a token for any test user, enabled only in the Testing environment.</summary>
    public const string TestUserGrant = "urn:vigil:dev:test-user";

    public static WebApplicationBuilder AddDevProvider(this WebApplicationBuilder builder)
    {
        var environment = builder.Environment;
        if (!environment.IsDevelopment() && !environment.IsEnvironment("Testing"))
        {
            throw new InvalidOperationException(
                $"Vigil.DevProvider runs only in the Development and Testing environments (this is {environment.EnvironmentName}): " +
                "its users, passwords and client secrets are in the repository. Point Vigil at the platform's provider (Auth:Authority).");
        }
        var testing = environment.IsEnvironment("Testing");
        var options = builder.Configuration.GetSection(DevProviderOptions.Section).Get<DevProviderOptions>() ?? new DevProviderOptions();
        if (options.Issuer is null || !options.Issuer.IsAbsoluteUri)
        {
            throw new InvalidOperationException("DevProvider:Issuer must be the provider's absolute address, e.g. http://127.0.0.1:5100/.");
        }
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton<DevUsers>();
        builder.Services.AddSingleton<SigningKeys>();

        builder.Services.AddDbContext<DbContext>(o =>
        {
            o.UseInMemoryDatabase("vigil-dev-provider");
            o.UseOpenIddict();
        });
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/account/login";
                o.Cookie.Name = "vigil-dev-provider";
                o.ExpireTimeSpan = options.LoginLifetime;
                o.SlidingExpiration = false;
            });
        builder.Services.AddAuthorization();

        var firstKey = SigningKeys.NewKey();
        builder.Services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<DbContext>())
            .AddServer(o =>
            {
                o.SetIssuer(options.Issuer);
                o.SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetEndSessionEndpointUris("connect/logout")
                    .SetDeviceAuthorizationEndpointUris("connect/device")
                    .SetEndUserVerificationEndpointUris("connect/verify")
                    .SetRevocationEndpointUris("connect/revoke");
                o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange()
                    .AllowClientCredentialsFlow()
                    .AllowRefreshTokenFlow()
                    .AllowDeviceAuthorizationFlow()
                    .AllowPasswordFlow();
                if (testing) o.AllowCustomFlow(TestUserGrant);
                o.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.OfflineAccess, options.Audience);
                o.AddSigningKey(firstKey);
                o.AddEphemeralEncryptionKey();
                // Vigil's services validate the access token themselves: a signed JWT, not encrypted.
                o.DisableAccessTokenEncryption();
                o.SetAccessTokenLifetime(options.AccessTokenLifetime);
                o.SetRefreshTokenLifetime(options.RefreshTokenLifetime);
                o.SetDeviceCodeLifetime(options.DeviceCodeLifetime);
                o.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .EnableEndUserVerificationEndpointPassthrough()
                    // Loopback HTTP in development and tests; a real provider is HTTPS.
                    .DisableTransportSecurityRequirement();
            });
        builder.Services.AddHostedService<ClientSeeder>();
        builder.Services.AddHealthChecks();
        return builder;
    }

    public static WebApplication MapDevProvider(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHealthChecks("/health/live");
        app.MapHealthChecks("/health/ready");
        app.MapLogin();
        app.MapAuthorization();
        app.MapToken();
        app.MapDeviceVerification();
        if (app.Environment.IsEnvironment("Testing"))
        {
            // Key rotation on demand, for the tests of rotation: never mapped outside Testing.
            app.MapSigningKeyRotation();
        }
        return app;
    }
}
