using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Hosting;

namespace Vigil.Gateway.SignIn;

/// <summary>
/// The pages' sign-in: ASP.NET Core's OpenID Connect handler (authorization code + PKCE, the code in the query of
/// the callback, never a token in a URL) signs the person into a cookie session of the gateway's own that keeps the
/// provider's tokens server-side (in the protected cookie); the pages' API calls the services with the session's
/// access token, refreshed before it expires (<see cref="SessionTokens"/>).
/// </summary>
internal static class SignInExtensions
{
    /// <summary>The cookie session's scheme.</summary>
    public const string CookieScheme = "vigil-pages";

    /// <summary>The provider's scheme (the code flow).</summary>
    public const string ProviderScheme = "vigil-oidc";

    /// <summary>The pages' API: a signed-in session (cookie) or a bearer token.</summary>
    public const string PagesPolicy = "pages";

    public static WebApplicationBuilder AddGatewaySignIn(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<SignInOptions>(SignInOptions.Section);
        builder.Services.AddSingleton<SessionTokens>();
        // Whether the provider's handler exists is decided here: it runs on every request (its callback paths), and a
        // handler without a client id would fail them all.
        var configured = builder.Configuration.GetSection(SignInOptions.Section).Get<SignInOptions>() ?? new SignInOptions();
        var authentication = builder.Services.AddAuthentication().AddCookie(CookieScheme);
        builder.Services.AddOptions<CookieAuthenticationOptions>(CookieScheme).Configure<IOptions<SignInOptions>, SessionTokens>((o, signIn, tokens) =>
        {
            o.Cookie.Name = signIn.Value.CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = signIn.Value.CookieLifetime;
            o.SlidingExpiration = false;
            o.Events = new CookieAuthenticationEvents
            {
                // The API answers 401/403; the page itself offers the sign-in link.
                OnRedirectToLogin = context => { context.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; },
                OnRedirectToAccessDenied = context => { context.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; },
                OnValidatePrincipal = tokens.ValidateAsync,
                OnSigningIn = tokens.SigningInAsync,
            };
        });
        if (configured.Enabled)
        {
            authentication.AddOpenIdConnect(ProviderScheme, _ => { });
            builder.Services.AddOptions<OpenIdConnectOptions>(ProviderScheme)
                .Configure<IOptions<SignInOptions>, IOptions<AuthOptions>, IHostEnvironment>(ConfigureProvider);
        }
        if (!string.IsNullOrWhiteSpace(configured.KeysDirectory))
        {
            builder.Services.AddDataProtection().SetApplicationName("vigil-gateway").PersistKeysToFileSystem(new DirectoryInfo(configured.KeysDirectory));
        }
        builder.Services.AddAuthorizationBuilder().AddPolicy(PagesPolicy, new AuthorizationPolicyBuilder(CookieScheme, JwtBearerDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser().Build());
        return builder;
    }

    private static void ConfigureProvider(OpenIdConnectOptions o, IOptions<SignInOptions> signInOptions, IOptions<AuthOptions> auth, IHostEnvironment environment)
    {
        var signIn = signInOptions.Value;
        o.SignInScheme = CookieScheme;
        o.SignOutScheme = CookieScheme;
        o.Authority = signIn.EffectiveAuthority(auth.Value.Authority);
        o.ClientId = signIn.ClientId;
        o.ClientSecret = signIn.ClientSecret;
        o.RequireHttpsMetadata = signIn.RequireHttpsMetadata ?? !environment.IsDevelopmentLike();
        o.ResponseType = "code";
        // The code comes back in the query of a top-level redirect (SameSite=Lax cookies go with it); the tokens are
        // fetched over the back channel with the PKCE verifier and the client secret, and never reach the browser.
        o.ResponseMode = "query";
        o.UsePkce = true;
        o.SaveTokens = true;
        o.UseTokenLifetime = false;
        o.MapInboundClaims = false;
        o.GetClaimsFromUserInfoEndpoint = false;
        o.DisableTelemetry = true;
        o.Scope.Clear();
        foreach (var scope in signIn.EffectiveScopes) o.Scope.Add(scope);
        o.CallbackPath = "/signin-oidc";
        o.SignedOutCallbackPath = "/signout-callback-oidc";
        o.SignedOutRedirectUri = "/dashboard";
        o.TokenValidationParameters.NameClaimType = "name";
        o.TokenValidationParameters.RoleClaimType = "role";
        o.CorrelationCookie.SameSite = SameSiteMode.Lax;
        o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.NonceCookie.SameSite = SameSiteMode.Lax;
        o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.Events = new OpenIdConnectEvents
        {
            OnRedirectToIdentityProviderForSignOut = context =>
            {
                // A provider without an end-session endpoint: the local sign-out is all there is.
                if (string.IsNullOrEmpty(context.ProtocolMessage.IssuerAddress))
                {
                    context.Response.Redirect("/dashboard");
                    context.HandleResponse();
                    return Task.CompletedTask;
                }
                // No ID token in the end-session URL (it would sit in the browser's history and the provider's access
                // log): the client id names who asks, as RP-initiated logout allows.
                context.ProtocolMessage.IdTokenHint = null;
                context.ProtocolMessage.ClientId = context.Options.ClientId;
                return Task.CompletedTask;
            },
            OnRemoteFailure = context =>
            {
                context.HttpContext.RequestServices.GetRequiredService<SessionTokens>().SignInFailed(context.Failure);
                context.Response.Redirect("/dashboard?signin=failed");
                context.HandleResponse();
                return Task.CompletedTask;
            },
        };
    }

    /// <summary>/signin (to the provider), /signout (here and at the provider), /api/me (who is signed in).</summary>
    public static IEndpointRouteBuilder MapSignIn(this IEndpointRouteBuilder app)
    {
        app.MapGet("/signin", (IOptions<SignInOptions> options) => options.Value.Enabled
            ? Results.Challenge(new AuthenticationProperties { RedirectUri = "/dashboard" }, [ProviderScheme])
            : Results.Json(new { error = "SIGN_IN_NOT_CONFIGURED", detail = "Sign-in is not configured on this gateway (Gateway:SignIn:ClientId)." }, statusCode: StatusCodes.Status404NotFound))
            .AllowAnonymous();

        // A form POST from the page (SameSite=Lax: another site cannot make the browser post it with the cookie).
        app.MapPost("/signout", async (HttpContext http, IOptions<SignInOptions> options) =>
        {
            var signedIn = (await http.AuthenticateAsync(CookieScheme)).Succeeded;
            var properties = new AuthenticationProperties { RedirectUri = "/dashboard" };
            return signedIn && options.Value.Enabled
                ? Results.SignOut(properties, [CookieScheme, ProviderScheme])
                : Results.SignOut(properties, [CookieScheme]);
        }).AllowAnonymous().DisableAntiforgery();

        app.MapGet("/api/me", (HttpContext http, IOptions<SignInOptions> options) => Results.Json(new
        {
            subject = http.User.FindFirst("sub")?.Value,
            name = http.User.FindFirst("name")?.Value ?? http.User.FindFirst("sub")?.Value,
            session = http.Items.ContainsKey(SessionTokens.AccessTokenItem),
            signOut = options.Value.Enabled,
        })).RequireAuthorization(PagesPolicy);

        app.MapGet("/api/signin", (IOptions<SignInOptions> options) => Results.Json(new { enabled = options.Value.Enabled })).AllowAnonymous();
        return app;
    }
}
