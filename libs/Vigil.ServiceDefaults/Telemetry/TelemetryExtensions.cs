using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Vigil.ServiceDefaults.Telemetry;

/// <summary>OpenTelemetry metrics, scrapeable at /metrics and exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; traces only then.</summary>
public static class TelemetryExtensions
{
    /// <summary>The meter and activity source name prefix of Vigil's own instruments.</summary>
    public const string MeterPrefix = "Vigil.";

    internal static IHostApplicationBuilder AddVigilTelemetry(this IHostApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Environment.ApplicationName))
            .WithMetrics(m =>
            {
                m.AddAspNetCoreInstrumentation()
                    .AddMeter(MeterPrefix + "*")
                    .AddMeter("MassTransit")
                    .AddMeter("System.Runtime")
                    .AddPrometheusExporter();
                if (otlp) m.AddOtlpExporter();
            });
        // Traces only where they go somewhere: with no exporter, recording an activity for every request (an exam
        // stream keeps its own for hours) and every proxied call costs memory and CPU for nothing.
        if (otlp)
        {
            otel.WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !ctx.Request.Path.StartsWithSegments("/health") && !ctx.Request.Path.StartsWithSegments("/metrics"))
                .AddGrpcClientInstrumentation()
                .AddSource(MeterPrefix + "*")
                .AddSource("MassTransit")
                .AddOtlpExporter());
        }
        return builder;
    }

    internal static void MapVigilMetrics(this WebApplication app) =>
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
}
