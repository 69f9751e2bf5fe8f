using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Vigil.ServiceDefaults.Hosting;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>JWT bearer validation for every service (the gateway validates too; each service checks again).</summary>
public static class AuthenticationExtensions
{
    /// <summary>Adds JWT bearer authentication, from the "Auth" section, and authorization by default (<see cref="AuthorizationDefaults"/>).</summary>
    public static IHostApplicationBuilder AddVigilAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<AuthOptions>(AuthOptions.Section);
        builder.Services.AddSingleton<ServiceTokenProvider>();
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        // From the validated options when the scheme is first used, so that settings given after the builder
        // (environment, a test's configuration) apply.
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>, IHostEnvironment>((o, auth, environment) =>
            {
                o.MapInboundClaims = false;
                o.RequireHttpsMetadata = false;
                o.TokenValidationParameters = CreateValidationParameters(auth.Value, environment.IsDevelopmentLike());
            });
        builder.Services.AddVigilAuthorization();
        return builder;
    }

    /// <summary>The validation rules: issuer, audience, lifetime and the configured keys.</summary>
    private static TokenValidationParameters CreateValidationParameters(AuthOptions options, bool allowDevelopmentKey)
    {
        var keys = new List<SecurityKey>();
        foreach (var pem in options.SigningKeys.Where(k => !string.IsNullOrWhiteSpace(k)))
        {
            keys.Add(LoadPublicKey(pem));
        }
        if (allowDevelopmentKey && !string.IsNullOrEmpty(options.DevelopmentKey))
        {
            keys.Add(DevelopmentTokens.KeyFrom(options.DevelopmentKey));
        }
        return new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudience = options.Audience,
            IssuerSigningKeys = keys,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = options.ClockSkew,
            NameClaimType = VigilClaims.Subject,
            RoleClaimType = VigilClaims.Role,
        };
    }

    /// <summary>A public key from PEM (RSA or ECDSA).</summary>
    internal static SecurityKey LoadPublicKey(string pem)
    {
        if (pem.Contains("RSA", StringComparison.Ordinal))
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        var ec = ECDsa.Create();
        ec.ImportFromPem(pem);
        return new ECDsaSecurityKey(ec);
    }
}

/// <summary>The token a service presents when it calls another service.</summary>
public sealed class ServiceTokenProvider(IOptions<AuthOptions> options, IHostEnvironment environment)
{
    private string? _minted;
    private DateTimeOffset _mintedUntil;

    /// <summary>The bearer token: the configured one, or in Development a short-lived token minted from the development key.</summary>
    public string GetToken()
    {
        var o = options.Value;
        if (!string.IsNullOrEmpty(o.ServiceToken)) return o.ServiceToken;
        if (string.IsNullOrEmpty(o.DevelopmentKey) || !environment.IsDevelopmentLike())
        {
            throw new InvalidOperationException("Auth:ServiceToken is not configured.");
        }
        if (_minted is null || _mintedUntil < DateTimeOffset.UtcNow.AddMinutes(1))
        {
            _mintedUntil = DateTimeOffset.UtcNow.AddMinutes(10);
            _minted = DevelopmentTokens.Mint(o.DevelopmentKey, o.Issuer, o.Audience, environment.ApplicationName,
                roles: [VigilRoles.Service], lifetime: TimeSpan.FromMinutes(10));
        }
        return _minted;
    }
}
