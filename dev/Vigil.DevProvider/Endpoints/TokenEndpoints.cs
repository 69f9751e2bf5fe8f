using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Vigil.DevProvider.Accounts;
using Vigil.DevProvider.Extensions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Vigil.DevProvider.Endpoints;

/// <summary>The authorization, token, end-session and device verification endpoints (OpenIddict validates the protocol; these say who the user is).</summary>
internal static class TokenEndpoints
{
    private static readonly string[] OpenIddictScheme = [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme];

    public static void MapAuthorization(this WebApplication app)
    {
        app.MapMethods("/connect/authorize", ["GET", "POST"], async (HttpContext http, DevUsers users) =>
        {
            var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
            var login = await http.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            var user = login.Succeeded ? users.Find(login.Principal?.FindFirstValue(Claims.Subject)) : null;
            if (user is null || request.HasPromptValue(PromptValues.Login))
            {
                if (request.HasPromptValue(PromptValues.None))
                {
                    return Refuse(Errors.LoginRequired, "The user is not signed in.");
                }
                // To the login page, then back here with the same request.
                var back = http.Request.PathBase + http.Request.Path + QueryString.Create(
                    http.Request.HasFormContentType ? http.Request.Form.Select(kv => KeyValuePair.Create(kv.Key, (string?)kv.Value.ToString())) : http.Request.Query.Select(kv => KeyValuePair.Create(kv.Key, (string?)kv.Value.ToString())));
                if (request.HasPromptValue(PromptValues.Login)) await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                return Results.Challenge(new AuthenticationProperties { RedirectUri = back }, [CookieAuthenticationDefaults.AuthenticationScheme]);
            }
            return Results.SignIn(users.Principal(user, request.GetScopes()), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }).DisableAntiforgery();

        app.MapMethods("/connect/logout", ["GET", "POST"], async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            // OpenIddict sends the browser to the client's registered post_logout_redirect_uri.
            return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, OpenIddictScheme);
        }).DisableAntiforgery();
    }

    public static void MapToken(this WebApplication app)
    {
        app.MapPost("/connect/token", async (HttpContext http, DevUsers users, IOptions<DevProviderOptions> options) =>
        {
            var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
            if (request.IsPasswordGrantType())
            {
                var user = users.Verify(request.Username, request.Password);
                return user is null
                    ? Refuse(Errors.InvalidGrant, "The user name or password is wrong.")
                    : Results.SignIn(users.Principal(user, request.GetScopes()), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            }
            if (request.IsClientCredentialsGrantType())
            {
                var client = options.Value.Clients.Find(c => c.ClientId == request.ClientId);
                return client is { Service: true }
                    ? Results.SignIn(users.Service(client.ClientId), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)
                    : Refuse(Errors.UnauthorizedClient, "This client does not act for itself.");
            }
            if (request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType() || request.IsDeviceCodeGrantType())
            {
                // OpenIddict has checked the code, refresh token or device code; the user's claims are read again.
                var result = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
                var subject = result.Principal?.GetClaim(Claims.Subject);
                if (result.Principal?.GetClaim(Claims.Role) == "service" && options.Value.Clients.Exists(c => c.ClientId == subject && c.Service))
                {
                    return Results.SignIn(users.Service(subject!), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
                }
                var user = users.Find(subject);
                if (user is null && result.Principal is { } principal && principal.GetClaim(TestUsers.Marker) == "true")
                {
                    return Results.SignIn(TestUsers.Renew(principal, users), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
                }
                return user is null
                    ? Refuse(Errors.InvalidGrant, "The user no longer exists.")
                    : Results.SignIn(users.Principal(user, result.Principal!.GetScopes()), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            }
            if (request.GrantType == DevProviderExtensions.TestUserGrant && app.Environment.IsEnvironment("Testing"))
            {
                return TestUsers.Issue(request, users);
            }
            return Refuse(Errors.UnsupportedGrantType, "This grant type is not supported.");
        }).DisableAntiforgery();
    }

    /// <summary>An OAuth error answer.</summary>
    public static IResult Refuse(string error, string description) =>
        Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }), OpenIddictScheme);
}
