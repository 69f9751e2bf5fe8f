using Vigil.ServiceDefaults.Hosting;
using Vigil.ServiceDefaults.Redis;

namespace Vigil.Certificate.Extensions;

/// <summary>The certificate service's wiring.</summary>
internal static class CertificateServiceExtensions
{
    public static WebApplicationBuilder AddCertificateService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults();
        builder.AddVigilRedis();
        return builder;
    }

    public static WebApplication MapCertificateService(this WebApplication app)
    {
        app.MapServiceDefaults();
        return app;
    }
}
