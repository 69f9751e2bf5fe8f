using System.Reflection;

namespace Vigil.Gateway.Api;

/// <summary>The browser pages, embedded in the assembly (no content root to get wrong in a container).</summary>
internal static class Pages
{
    private static readonly Assembly Assembly = typeof(Pages).Assembly;

    public static IEndpointRouteBuilder MapPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Redirect("/dashboard")).AllowAnonymous();
        app.MapGet("/dashboard", () => Page("dashboard.html", "text/html; charset=utf-8")).AllowAnonymous();
        app.MapGet("/verify", () => Page("verify.html", "text/html; charset=utf-8")).AllowAnonymous();
        app.MapGet("/assets/vigil.css", () => Page("vigil.css", "text/css; charset=utf-8")).AllowAnonymous();
        app.MapGet("/assets/dashboard.js", () => Page("dashboard.js", "text/javascript; charset=utf-8")).AllowAnonymous();
        app.MapGet("/assets/verify.js", () => Page("verify.js", "text/javascript; charset=utf-8")).AllowAnonymous();
        return app;
    }

    private static IResult Page(string name, string contentType)
    {
        var stream = Assembly.GetManifestResourceStream("Vigil.Gateway.wwwroot." + name)
            ?? throw new InvalidOperationException($"The page {name} is not embedded.");
        return Results.Stream(stream, contentType);
    }
}
