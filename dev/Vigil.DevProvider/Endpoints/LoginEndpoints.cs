using System.Net;
using Microsoft.AspNetCore;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Vigil.DevProvider.Accounts;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Vigil.DevProvider.Endpoints;

/// <summary>The login page (user name and password of a demo user) and the device code page.</summary>
internal static class LoginEndpoints
{
    public static void MapLogin(this WebApplication app)
    {
        app.MapGet("/account/login", (string? returnUrl) => Page("Sign in to the Vigil development provider", Form("/account/login", returnUrl, error: null)));

        app.MapPost("/account/login", async (HttpContext http, DevUsers users) =>
        {
            var form = await http.Request.ReadFormAsync();
            var returnUrl = form["returnUrl"].ToString();
            var user = users.Verify(form["username"], form["password"]);
            if (user is null)
            {
                return Page("Sign in to the Vigil development provider", Form("/account/login", returnUrl, "The user name or password is wrong."), 401);
            }
            var identity = new ClaimsIdentity([new Claim(Claims.Subject, user.Subject), new Claim(Claims.Name, user.Name ?? user.UserName)], CookieAuthenticationDefaults.AuthenticationScheme);
            await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
            // Only back into this provider (the authorization or verification endpoint), never elsewhere.
            return Results.LocalRedirect(returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal) ? returnUrl : "/");
        }).DisableAntiforgery();

        app.MapGet("/", () => Page("Vigil development provider", "<p>A development identity provider for Vigil. Demo users are listed in dev/Vigil.DevProvider/appsettings.json.</p>"));
    }

    public static void MapDeviceVerification(this WebApplication app)
    {
        // The page a user opens from the CLI's "go to … and enter the code" (signed in at the provider first).
        app.MapGet("/connect/verify", [Authorize(AuthenticationSchemes = CookieAuthenticationDefaults.AuthenticationScheme)] async (HttpContext http) =>
        {
            var result = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            var code = WebUtility.HtmlEncode(http.GetOpenIddictServerRequest()?.UserCode ?? "");
            var known = result.Succeeded && !string.IsNullOrEmpty(result.Principal?.GetClaim(Claims.ClientId));
            return Page("Sign in a device", $"""
                <form method="post" action="/connect/verify">
                  <label>Code shown by the device <input name="user_code" value="{code}" autofocus></label>
                  <button type="submit" name="approve" value="yes">Sign the device in</button>
                  <button type="submit" name="approve" value="no">Refuse</button>
                </form>{(known || code.Length == 0 ? "" : "<p>This code is unknown or has expired.</p>")}
                """);
        });

        app.MapPost("/connect/verify", [Authorize(AuthenticationSchemes = CookieAuthenticationDefaults.AuthenticationScheme)] async (HttpContext http, DevUsers users) =>
        {
            var result = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            var form = await http.Request.ReadFormAsync();
            if (result.Succeeded && form["approve"] == "no")
            {
                // The user refuses: the device's polling gets access_denied.
                return Results.Forbid(new AuthenticationProperties { RedirectUri = "/account/device-refused" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
            }
            var user = users.Find(http.User.FindFirstValue(Claims.Subject));
            if (!result.Succeeded || user is null || string.IsNullOrEmpty(result.Principal?.GetClaim(Claims.ClientId)))
            {
                return Page("Sign in a device", "<p>This code is unknown or has expired: start again on the device.</p>", 400);
            }
            var principal = users.Principal(user, result.Principal!.GetScopes());
            return Results.SignIn(principal, new AuthenticationProperties { RedirectUri = "/account/device-done" }, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }).DisableAntiforgery();

        app.MapGet("/account/device-done", () => Page("Device signed in", "<p>The device is signed in: you can close this page.</p>"));
        app.MapGet("/account/device-refused", () => Page("Device refused", "<p>The device was not signed in: you can close this page.</p>"));
    }

    private static string Form(string action, string? returnUrl, string? error) => $"""
        <form method="post" action="{action}">
          <input type="hidden" name="returnUrl" value="{WebUtility.HtmlEncode(returnUrl ?? "/")}">
          <label>User name <input name="username" autocomplete="username" autofocus></label>
          <label>Password <input name="password" type="password" autocomplete="current-password"></label>
          <button type="submit">Sign in</button>
        </form>
        {(error is null ? "" : $"<p role=\"alert\">{WebUtility.HtmlEncode(error)}</p>")}
        """;

    private static IResult Page(string title, string body, int status = 200) => Results.Content($$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>{{WebUtility.HtmlEncode(title)}}</title>
        <style>body{font-family:sans-serif;max-width:28rem;margin:3rem auto}label{display:block;margin:.5rem 0}input{display:block;width:100%}</style>
        </head><body><h1>{{WebUtility.HtmlEncode(title)}}</h1>{{body}}</body></html>
        """, "text/html; charset=utf-8", statusCode: status);
}
