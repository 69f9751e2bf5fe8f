using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;
using Vigil.Gateway.Api;
using Vigil.Gateway.RateLimiting;
using Vigil.Gateway.Routing;
using Vigil.ServiceDefaults.Errors;
using Vigil.ServiceDefaults.Hosting;
using Yarp.ReverseProxy.Model;

namespace Vigil.Gateway.Extensions;

/// <summary>The gateway's wiring.</summary>
internal static class GatewayExtensions
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        // Health, telemetry, JSON logging, draining and JWT validation with the same "Auth" options as the services
        // (a gRPC caller refused there reads UNAUTHENTICATED as a gRPC status, not a bare HTTP 401).
        builder.AddServiceDefaults();

        builder.Services.AddOptions<GatewayOptions>()
            .Bind(builder.Configuration.GetSection(GatewayOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.ActivityTimeout > TimeSpan.Zero, "Gateway:ActivityTimeout must be positive.")
            .ValidateOnStart();
        builder.Services.AddOptions<ServiceAddresses>()
            .Bind(builder.Configuration.GetSection(ServiceAddresses.Section))
            .ValidateDataAnnotations()
            .Validate(a => new[] { a.Identity, a.Session, a.Certificate }.All(l => ServiceAddresses.Split(l).All(x => Uri.TryCreate(x, UriKind.Absolute, out _))),
                "Services: every address must be an absolute URI such as http://identity:5101.")
            .ValidateOnStart();
        var options = builder.Configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions();
        var addresses = builder.Configuration.GetSection(ServiceAddresses.Section).Get<ServiceAddresses>() ?? new ServiceAddresses();

        builder.Services.AddReverseProxy()
            .LoadFromMemory(ProxyRoutes.Routes(), ProxyRoutes.Clusters(addresses, options));
        // Probes over HTTP/1.1 to management ports, h2c to gRPC ports (YARP's default would use the cluster's HTTP/2).
        builder.Services.AddSingleton<Yarp.ReverseProxy.Health.IProbingRequestFactory, ProbingRequestFactory>();

        builder.Services.AddGatewayRateLimits(options);
        builder.Services.AddSingleton<ServiceChannels>();
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        // Exam streams last for hours and may be quiet: no minimum body data rate, no body size cap, for gRPC.
        app.Use((context, next) =>
        {
            if (GrpcResponses.IsGrpc(context))
            {
                if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate) rate.MinDataRate = null;
                if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = null;
            }
            return next(context);
        });
        app.MapServiceDefaults();
        app.UseRateLimiter();
        app.MapPages();
        app.MapPagesApi();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
            // A service that cannot be reached is UNAVAILABLE (14) with a message, not a bare HTTP 502/503.
            proxy.Use(async (context, next) =>
            {
                await next();
                if (!GrpcResponses.IsGrpc(context) || context.Response.HasStarted) return;
                if (context.Response.StatusCode is StatusCodes.Status502BadGateway or StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout)
                {
                    var cluster = context.GetReverseProxyFeature().Cluster.Config.ClusterId;
                    GrpcResponses.WriteStatus(context, Grpc.Core.StatusCode.Unavailable, $"The {cluster} service is unavailable; try again.");
                }
            });
        });
        _ = app.Services.GetRequiredService<IOptions<GatewayOptions>>();
        return app;
    }
}
