using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Vigil.Gateway.Api;
using Vigil.Gateway.Health;
using Vigil.Gateway.RateLimiting;
using Vigil.Gateway.Routing;
using Vigil.Gateway.SignIn;
using Vigil.ServiceDefaults.Errors;
using Vigil.ServiceDefaults.Health;
using Vigil.ServiceDefaults.Hosting;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Vigil.Gateway.Extensions;

/// <summary>The gateway's wiring.</summary>
internal static class GatewayExtensions
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        // Health, telemetry, JSON logging, draining and JWT validation with the same "Auth" options as the services
        // (a gRPC caller refused there reads UNAUTHENTICATED as a gRPC status, not a bare HTTP 401).
        builder.AddServiceDefaults();

        builder.Services.AddValidatedOptions<GatewayOptions>(GatewayOptions.Section);

        // Routes, clusters, destinations and their health checks in YARP's own configuration schema
        // ("ReverseProxy" in appsettings.json; environment variables override, e.g.
        // ReverseProxy__Clusters__session__Destinations__session__Address). Each destination's host name is
        // resolved to one destination per pod and refreshed (PodDestinationResolver).
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection(ProxyRoutes.Section));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IDestinationResolver, PodDestinationResolver>();
        // The passive check's window, which is also the least time a destination it marked unhealthy stays out.
        builder.Services.AddOptions<Yarp.ReverseProxy.Health.TransportFailureRateHealthPolicyOptions>()
            .Configure<IOptions<GatewayOptions>>((passive, gateway) => passive.DetectionWindowSize = gateway.Value.PassiveHealthWindow);
        // Probes over HTTP/1.1 to management ports, h2c to gRPC ports (YARP's default would use the cluster's HTTP/2).
        builder.Services.AddSingleton<Yarp.ReverseProxy.Health.IProbingRequestFactory, ProbingRequestFactory>();
        // Ready while it can route to some service; Degraded while a service has no available replica (RoutingHealthCheck).
        builder.Services.AddSingleton<RoutableClusters>();
        builder.Services.AddHealthChecks().AddCheck<RoutingHealthCheck>("routing", tags: [HealthTags.Ready]);

        // The pages' sign-in at the provider (code flow + PKCE) and their cookie session (Gateway:SignIn).
        builder.AddGatewaySignIn();
        builder.Services.AddGatewayRateLimits();
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
        app.MapSignIn();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
            // A service that cannot be reached, or that fails under an open call, is UNAVAILABLE (14) with a message.
            proxy.Use(BackendFailures.Handle);
        });
        // The available-destinations gauge exists from the start, not from the first readiness probe.
        _ = app.Services.GetRequiredService<RoutableClusters>();
        return app;
    }
}
