using Vigil.ServiceDefaults.Hosting;
using Vigil.ServiceDefaults.Redis;

namespace Vigil.Session.Extensions;

/// <summary>The session service's wiring.</summary>
internal static class SessionServiceExtensions
{
    public static WebApplicationBuilder AddSessionService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults();
        builder.AddVigilRedis();
        return builder;
    }

    public static WebApplication MapSessionService(this WebApplication app)
    {
        app.MapServiceDefaults();
        return app;
    }
}
