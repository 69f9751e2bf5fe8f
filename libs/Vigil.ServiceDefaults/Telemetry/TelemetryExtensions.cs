using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Vigil.ServiceDefaults.Telemetry;

/// <summary>OpenTelemetry traces and metrics: exported over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set; metrics scrapeable at /metrics.</summary>
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
            })
            .WithTracing(t =>
            {
                t.AddAspNetCoreInstrumentation(o => o.Filter = ctx => !ctx.Request.Path.StartsWithSegments("/health") && !ctx.Request.Path.StartsWithSegments("/metrics"))
                    .AddGrpcClientInstrumentation()
                    .AddSource(MeterPrefix + "*")
                    .AddSource("MassTransit");
                if (otlp) t.AddOtlpExporter();
            });
        _ = otel;
        return builder;
    }

    internal static void MapVigilMetrics(this WebApplication app) =>
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
}
