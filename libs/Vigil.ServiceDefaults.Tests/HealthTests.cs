using System.Net;
using Grpc.Health.V1;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Vigil.ServiceDefaults.Health;
using Vigil.Testing;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>Liveness never depends on Redis or RabbitMQ; readiness does, and turns off while draining.</summary>
[Collection(ProcessWideMetrics.Name)]
public sealed class HealthTests
{
    private static async Task<HttpStatusCode> GetAsync(Microsoft.AspNetCore.Builder.WebApplication app, string path)
    {
        using var client = app.GetTestClient();
        using var response = await client.GetAsync(path);
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> EventuallyAsync(Microsoft.AspNetCore.Builder.WebApplication app, string path, HttpStatusCode wanted)
    {
        await Eventually.Async(async () => await GetAsync(app, path) == wanted, $"{path} to answer {wanted}", interval: TimeSpan.FromMilliseconds(200));
        return wanted;
    }

    [Fact]
    public async Task Live_and_ready_when_redis_and_rabbitmq_are_up()
    {
        await using var app = await TestHost.StartAsync();
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/health/live"));
        Assert.Equal(HttpStatusCode.OK, await EventuallyAsync(app, "/health/ready", HttpStatusCode.OK));
        var health = new Grpc.Health.V1.Health.HealthClient(app.Channel());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "liveness" })).Status);
    }

    [Fact]
    public async Task Live_but_not_ready_when_redis_and_rabbitmq_are_unreachable()
    {
        var dead = ServiceProcess.FreePort();
        await using var app = await TestHost.StartAsync(settings: new()
        {
            ["Redis:Configuration"] = $"127.0.0.1:{dead},connectTimeout=200",
            ["RabbitMq:Uri"] = $"amqp://guest:guest@127.0.0.1:{dead}/",
        });
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/health/live"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetAsync(app, "/health/ready"));
        var health = new Grpc.Health.V1.Health.HealthClient(app.Channel());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "liveness" })).Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = "" })).Status);
    }

    [Fact]
    public async Task Readiness_gives_up_on_a_hung_redis_within_its_budget_not_the_clients_timeout()
    {
        // A listener that accepts and never answers: Redis stopped (SIGSTOP) or a black-holed connection. Redis's own
        // timeouts are 5 s here: an answer well before them comes from the readiness budget (HealthBudget.PerCheck,
        // 700 ms, which is what keeps a probe inside its 1 s timeout). The bound checked is 3 s, not 1 s, so that a
        // loaded machine's scheduling cannot fail the test while a probe waiting for Redis (5 s) still would.
        using var hung = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        hung.Start(100);
        var port = ((IPEndPoint)hung.LocalEndpoint).Port;
        await using var app = await TestHost.StartAsync(settings: new()
        {
            ["Redis:Configuration"] = $"127.0.0.1:{port},connectTimeout=5000,asyncTimeout=5000,syncTimeout=5000",
        });
        var health = new Grpc.Health.V1.Health.HealthClient(app.Channel());
        using var client = app.GetTestClient();
        // Three probes that ran on time must each say Unhealthy. A probe that ran out of its budget late says Degraded
        // (this process starved of CPU: Redis is not judged by it; RedisReadinessVerdictTests has that rule) and is not
        // counted; on a quiet machine none is.
        var onTime = 0;
        var starved = 0;
        for (var probe = 0; onTime < 3; probe++)
        {
            Assert.True(probe < 30, $"30 probes and only {onTime} ran on time ({starved} starved): the machine is too loaded to judge");
            var watch = System.Diagnostics.Stopwatch.StartNew();
            using var response = await client.GetAsync("/health/ready");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"/health/ready took {watch.Elapsed}");
            using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var redis = body.RootElement.GetProperty("checks").GetProperty("redis");
            if (redis.GetProperty("status").GetString() == "Degraded" && redis.GetProperty("description").GetString()!.Contains("starved", StringComparison.Ordinal))
            {
                starved++;
                continue;
            }
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("Unhealthy", redis.GetProperty("status").GetString());
            onTime++;
            watch.Restart();
            var status = (await health.CheckAsync(new HealthCheckRequest { Service = "" })).Status;
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"gRPC health took {watch.Elapsed}");
            if (status == HealthCheckResponse.Types.ServingStatus.Serving) starved++;
            else Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, status);
        }
    }

    [Fact]
    public async Task A_broker_outage_degrades_readiness_but_keeps_the_replica_in_rotation()
    {
        var dead = Vigil.Testing.ServiceProcess.FreePort();
        await using var app = await TestHost.StartAsync(settings: new()
        {
            ["RabbitMq:Uri"] = $"amqp://guest:guest@127.0.0.1:{dead}/",
        });
        Assert.Equal(HttpStatusCode.OK, await EventuallyAsync(app, "/health/ready", HttpStatusCode.OK));
        using var client = app.GetTestClient();
        using var body = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/health/ready"));
        Assert.Equal("Degraded", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("Degraded", body.RootElement.GetProperty("checks").GetProperty("rabbitmq").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
        // The gauge alerts watch: rabbitmq at 1 (Degraded), redis at 2 (Healthy), once the background checks ran
        // after Redis's first connection (every HealthMetrics.Period).
        var rabbitmq = new System.Text.RegularExpressions.Regex("""vigil_health_status\{[^}]*check="rabbitmq"[^}]*\} 1\b""");
        var redis = new System.Text.RegularExpressions.Regex("""vigil_health_status\{[^}]*check="redis"[^}]*\} 2\b""");
        var metrics = string.Empty;
        for (var i = 0; i < 200 && !(rabbitmq.IsMatch(metrics) && redis.IsMatch(metrics)); i++)
        {
            await Task.Delay(200);
            metrics = await client.GetStringAsync("/metrics");
        }
        var gauges = string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("vigil_health_status", StringComparison.Ordinal)));
        Assert.True(rabbitmq.IsMatch(metrics) && redis.IsMatch(metrics), $"vigil_health_status should read rabbitmq 1 and redis 2; it reads:\n{gauges}");
        var health = new Grpc.Health.V1.Health.HealthClient(app.Channel());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "" })).Status);
    }

    [Fact]
    public async Task Draining_turns_readiness_off_then_tells_streams_to_move()
    {
        await using var app = await TestHost.StartAsync();
        Assert.Equal(HttpStatusCode.OK, await EventuallyAsync(app, "/health/ready", HttpStatusCode.OK));
        var drain = app.Services.GetRequiredService<DrainState>();
        drain.Begin();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetAsync(app, "/health/ready"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(app, "/health/live"));
        Assert.False(drain.StreamsMustMove.IsCancellationRequested);
        drain.MoveStreams();
        Assert.True(drain.StreamsMustMove.IsCancellationRequested);
    }

    [Fact]
    public async Task Metrics_are_scrapeable()
    {
        await using var app = await TestHost.StartAsync();
        using var client = app.GetTestClient();
        var body = await client.GetStringAsync("/metrics");
        Assert.Contains("# TYPE", body, StringComparison.Ordinal);
    }
}

/// <summary>
/// Tests that read a host's /metrics run alone: OpenTelemetry listens to every meter of the process by name, so
/// another test's host alive at the same time registers the same instruments first and this host's gauges are
/// dropped as duplicates (in production a process has one host).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMetrics
{
    public const string Name = "process-wide metrics";
}
