using Grpc.Core;
using Grpc.Net.Client;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.ServiceDefaults.Hosting;
using Vigil.ServiceDefaults.Messaging;
using Vigil.ServiceDefaults.Redis;
using Vigil.ServiceDefaults.Tests.Probe;
using Vigil.Testing;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>A minimal service built with the shared defaults, on a test server, against the real Redis and RabbitMQ.</summary>
internal static class TestHost
{
    public static async Task<WebApplication> StartAsync(
        string environment = "Testing",
        Dictionary<string, string?>? settings = null,
        Action<IBusRegistrationConfigurator>? consumers = null,
        Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment, ApplicationName = typeof(TestHost).Assembly.GetName().Name });
        builder.WebHost.UseTestServer();
        var config = new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = TestEnvironment.Redis,
            ["RabbitMq:Uri"] = TestEnvironment.RabbitMq("defaults"),
            ["Hosting:DrainDelay"] = "00:00:00.050",
        };
        foreach (var (k, v) in TestTokens.HostSettings) config[k] = v;
        foreach (var (k, v) in settings ?? []) config[k] = v;
        builder.AddServiceDefaults();
        builder.AddVigilRedis(defaultKeyPrefix: "vigil:defaults-test:");
        builder.AddVigilMessaging(consumers);
        // Given after the wiring, as a test factory's or a late configuration source's would be: nothing may read
        // its options while the builder runs.
        builder.Configuration.AddInMemoryCollection(config);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapServiceDefaults();
        app.MapGrpcService<ProbeServiceImpl>();
        await app.StartAsync();
        return app;
    }

    public static GrpcChannel Channel(this WebApplication app, string? token = null)
    {
        var server = app.GetTestServer();
        return TestChannel.Create(server.BaseAddress, token, new GrpcChannelOptions { HttpHandler = server.CreateHandler() });
    }
}

internal sealed class ProbeServiceImpl : ProbeService.ProbeServiceBase
{
#pragma warning disable CS0618 // the test only needs the exception type a broken connection raises
    public override Task<FailResponse> Fail(FailRequest request, ServerCallContext context) => request.Kind switch
    {
        "bug" => throw new InvalidOperationException("a bug with a secret answer inside"),
        "redis" => throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "down", null, CommandStatus.Unknown),
        // What StackExchange.Redis raises for these replies: the server's error line is the message.
        "clusterdown" => throw new RedisServerException("CLUSTERDOWN The cluster is down"),
        "readonly" => throw new RedisServerException("READONLY You can't write against a read only replica. script: 1f0c"),
        "tryagain" => throw new RedisServerException("TRYAGAIN Multiple keys request during rehashing of slot"),
        "not-acknowledged" => throw new StoreNotAcknowledgedException("The write reached the primary, but 0 of the 1 replica(s) required confirmed it within 1000 ms: it is not acknowledged. Retry shortly."),
        "redis-bug" => throw new RedisServerException("ERR wrong number of arguments for 'hset' command"),
        "field" => throw new InvalidRequestException("email", "has an alias"),
        "precondition" => throw new PreconditionFailedException("VERIFICATION_INCOMPLETE", "exams/e1", "Take the ID-document photo first."),
        _ => Task.FromResult(new FailResponse()),
    };
#pragma warning restore CS0618

    [Microsoft.AspNetCore.Authorization.Authorize]
    public override Task<WhoamiResponse> Whoami(WhoamiRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        return Task.FromResult(new WhoamiResponse { Subject = caller.Subject, Learner = caller.IsLearner });
    }
}
