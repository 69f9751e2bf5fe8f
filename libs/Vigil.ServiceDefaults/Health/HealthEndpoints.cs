using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Vigil.ServiceDefaults.Health;

internal static class HealthEndpoints
{
    /// <summary>
    /// /health/live: the process answers (no check that touches Redis or RabbitMQ).
    /// /health/ready: every check tagged ready passes (Redis, not draining; the gateway: it can route). 200 when
    /// Healthy or Degraded (the broker down; the gateway with a service it cannot route to), 503 when Unhealthy.
    /// Both answer with a JSON body naming each check's status, description and data (see <see cref="WriteAsync"/>).
    /// </summary>
    public static void MapVigilHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = r => r.Tags.Contains(HealthTags.Live), ResponseWriter = WriteAsync })
            .AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = r => r.Tags.Contains(HealthTags.Ready), ResponseWriter = WriteAsync })
            .AllowAnonymous();
    }

    /// <summary>
    /// <c>{"status":"Degraded","checks":{"routing":{"status":"Degraded","description":"no available replica of:
    /// certificate","data":{"identity":2,"session":3,"certificate":0}}}}</c>. Descriptions and data hold no
    /// secret (check names, counts, short reasons); exceptions are never written.
    /// </summary>
    internal static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            if (entry.Description is { } description) json.WriteString("description", description);
            if (entry.Data.Count > 0)
            {
                json.WriteStartObject("data");
                foreach (var (key, value) in entry.Data)
                {
                    switch (value)
                    {
                        case int or long or double:
                            json.WriteNumber(key, Convert.ToDouble(value, CultureInfo.InvariantCulture));
                            break;
                        case bool b:
                            json.WriteBoolean(key, b);
                            break;
                        case string text:
                            json.WriteString(key, text);
                            break;
                        default:
                            // Structured values (MassTransit's per-endpoint results) are left out: the description says it.
                            break;
                    }
                }
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync();
    }
}
