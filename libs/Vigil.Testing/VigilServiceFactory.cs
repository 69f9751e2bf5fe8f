using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace Vigil.Testing;

/// <summary>
/// Hosts a Vigil service in process (the "Testing" environment) against the real Redis and RabbitMQ,
/// and gives gRPC channels through the test server's handler, with a bearer token per channel.
/// </summary>
/// <typeparam name="TEntryPoint">Any public type of the service's assembly.</typeparam>
public class VigilServiceFactory<TEntryPoint> : WebApplicationFactory<TEntryPoint>, IGrpcEndpoint
    where TEntryPoint : class
{
    private readonly string _virtualHost;
    private readonly Dictionary<string, string?> _settings;

    /// <param name="virtualHost">The RabbitMQ virtual host of this test suite.</param>
    /// <param name="settings">More configuration, overriding the defaults.</param>
    public VigilServiceFactory(string virtualHost, IDictionary<string, string?>? settings = null)
    {
        _virtualHost = virtualHost;
        _settings = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
    }

    /// <summary>Adds or replaces a setting before the host is built.</summary>
    public VigilServiceFactory<TEntryPoint> With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <inheritdoc />
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        var settings = new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = TestEnvironment.Redis,
            ["RabbitMq:Uri"] = TestEnvironment.RabbitMq(_virtualHost),
            ["Hosting:DrainDelay"] = "00:00:00.100",
        };
        foreach (var (k, v) in TestTokens.HostSettings) settings[k] = v;
        foreach (var (k, v) in _settings) settings[k] = v;
        // Once, last in line: the services read their options when the host starts (ValidatedOptions), never while
        // the builder runs, so the factory's configuration applies.
        builder.ConfigureAppConfiguration(c => c.AddInMemoryCollection(settings));
    }

    /// <summary>A gRPC channel to the in-process server, sending <paramref name="token"/> (none when null).</summary>
    public GrpcChannel Channel(string? token)
    {
        return TestChannel.Create(Server.BaseAddress, token, new GrpcChannelOptions
        {
            HttpHandler = Server.CreateHandler(),
            MaxReceiveMessageSize = TestChannel.MaxReceiveMessageSize,
        });
    }
}
