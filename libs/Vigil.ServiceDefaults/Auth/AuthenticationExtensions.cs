using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Vigil.Contracts.Auth;
using Vigil.ServiceDefaults.Health;
using Vigil.ServiceDefaults.Hosting;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>JWT bearer validation for every service (the gateway validates too; each service checks again).</summary>
public static class AuthenticationExtensions
{
    /// <summary>
    /// Adds JWT bearer authentication, from the "Auth" section: keys from the provider's metadata
    /// (<see cref="AuthOptions.Authority"/>, <see cref="ProviderMetadata"/>, a readiness check) or static keys;
    /// claims mapped (<see cref="ClaimMapper"/>); authorization by default (<see cref="AuthorizationDefaults"/>).
    /// </summary>
    public static IHostApplicationBuilder AddVigilAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<AuthOptions>(AuthOptions.Section);
        builder.Services.AddSingleton<ServiceTokenProvider>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ProviderMetadata>();
        builder.Services.AddSingleton<ProviderKeysHealthCheck>();
        // Registered always, answers Healthy without an authority (static keys cannot go stale).
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration("identity-provider",
            sp => string.IsNullOrWhiteSpace(sp.GetRequiredService<IOptions<AuthOptions>>().Value.Authority)
                ? new StaticKeysHealthCheck()
                : sp.GetRequiredService<ProviderKeysHealthCheck>(),
            failureStatus: HealthStatus.Unhealthy, tags: [HealthTags.Ready], timeout: HealthBudget.PerCheck));
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        // From the validated options when the scheme is first used, so that settings given after the builder
        // (environment, a test's configuration) apply.
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>, IHostEnvironment, IServiceProvider>((o, auth, environment, services) =>
            {
                var options = auth.Value;
                o.MapInboundClaims = false;
                o.RequireHttpsMetadata = options.RequireHttpsMetadata ?? !environment.IsDevelopmentLike();
                o.TokenValidationParameters = CreateValidationParameters(options);
                if (!string.IsNullOrWhiteSpace(options.Authority))
                {
                    // The handler asks it for the issuer and keys, and on an unknown kid refreshes it and tries again.
                    o.ConfigurationManager = services.GetRequiredService<ProviderMetadata>();
                    o.RefreshOnIssuerKeyNotFound = true;
                }
            });
        builder.Services.AddVigilAuthorization();
        return builder;
    }

    /// <summary>The validation rules: issuer, audience, lifetime, algorithm and the static keys (the provider's come from its metadata).</summary>
    private static TokenValidationParameters CreateValidationParameters(AuthOptions options)
    {
        var keys = new List<SecurityKey>();
        foreach (var pem in options.SigningKeys.Where(k => !string.IsNullOrWhiteSpace(k)))
        {
            keys.Add(LoadPublicKey(pem));
        }
        return new TokenValidationParameters
        {
            ValidIssuer = string.IsNullOrWhiteSpace(options.Issuer) ? null : options.Issuer,
            ValidAudience = options.Audience,
            IssuerSigningKeys = keys,
            ValidAlgorithms = options.Algorithms,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            // Static keys are tried whatever the token's kid names (a provider's kids are its own); the provider's
            // keys are found by kid, and an unknown kid makes the metadata be read again.
            TryAllIssuerSigningKeys = string.IsNullOrWhiteSpace(options.Authority),
            ClockSkew = options.ClockSkew,
            NameClaimType = VigilClaims.Subject,
            RoleClaimType = VigilClaims.Role,
        };
    }

    /// <summary>A public key from PEM (RSA or ECDSA), its key id the RFC 7638 thumbprint (<see cref="Thumbprint"/>).</summary>
    internal static SecurityKey LoadPublicKey(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            var key = new RsaSecurityKey(rsa);
            key.KeyId = Thumbprint(key);
            return key;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
        }
        var ec = ECDsa.Create();
        ec.ImportFromPem(pem);
        var ecKey = new ECDsaSecurityKey(ec);
        ecKey.KeyId = Thumbprint(ecKey);
        return ecKey;
    }

    /// <summary>The RFC 7638 JWK thumbprint of a public key, base64url: the key id a static key is known by.</summary>
    public static string Thumbprint(AsymmetricSecurityKey key) => Base64UrlEncoder.Encode((key switch
    {
        RsaSecurityKey rsa => JsonWebKeyConverter.ConvertFromRSASecurityKey(rsa),
        ECDsaSecurityKey ec => JsonWebKeyConverter.ConvertFromECDsaSecurityKey(ec),
        _ => throw new ArgumentException("RSA or ECDSA keys only.", nameof(key)),
    }).ComputeJwkThumbprint());

    /// <summary>Maps the provider's claims into Vigil's once the token is valid.</summary>
    internal static Task OnTokenValidated(TokenValidatedContext context)
    {
        var options = context.HttpContext.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (context.Principal?.Identity is ClaimsIdentity identity)
        {
            ClaimMapper.Apply(identity, options.Claims);
        }
        return Task.CompletedTask;
    }

    private sealed class StaticKeysHealthCheck : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(HealthCheckResult.Healthy("static signing keys (Auth:SigningKeys)"));
    }
}
