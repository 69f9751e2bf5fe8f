using Vigil.ServiceDefaults.Hosting;
using Vigil.ServiceDefaults.Redis;

namespace Vigil.Identity.Extensions;

/// <summary>The identity service's wiring.</summary>
internal static class IdentityServiceExtensions
{
    public static WebApplicationBuilder AddIdentityService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults();
        builder.AddVigilRedis();
        return builder;
    }

    public static WebApplication MapIdentityService(this WebApplication app)
    {
        app.MapServiceDefaults();
        return app;
    }
}
