using System.Globalization;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// The whole of Vigil as real processes (the kit's <see cref="ProcessStack"/>): identity, session and certificate
/// with the gateway in front, against the real Redis and RabbitMQ (virtual host "e2e"). Tests talk only to the
/// gateway. Clock skew is zero so that a short-lived token really expires during a test.
/// </summary>
public sealed class EndToEndStack : IAsyncLifetime
{
    /// <summary>The gateway's photo-upload limit per learner and window (the rate-limit test goes past it).</summary>
    public const int PhotoUploadsPerWindow = 6;

    public ProcessStack Processes { get; private set; } = null!;

    /// <summary>The gateway's gRPC address (h2c).</summary>
    public Uri GatewayGrpc => Processes.Gateway.GrpcAddress;

    /// <summary>The gateway's pages address (HTTP/1.1).</summary>
    public Uri GatewayPages => Processes.Gateway.HttpAddress;

    public async Task InitializeAsync()
    {
        Processes = await ProcessStack.StartAsync(new ProcessStackOptions
        {
            RabbitMqUri = TestEnvironment.RabbitMq("e2e"),
            Settings = new Dictionary<string, string?>
            {
                ["Auth:ClockSkew"] = "00:00:00",
                ["Hosting:DrainDelay"] = "00:00:00.100",
            },
            GatewaySettings = GatewaySettings.Merge(
                GatewaySettings.HealthChecks(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3)),
                new Dictionary<string, string?>
                {
                    ["Gateway:PhotoUploadsPerWindow"] = PhotoUploadsPerWindow.ToString(CultureInfo.InvariantCulture),
                    ["Gateway:RateLimitWindow"] = "00:05:00",
                }),
        });
    }

    /// <summary>A journey through the gateway (the test disposes it).</summary>
    public Journey NewJourney() => new(Processes);

    /// <summary>The end of every process's output, for a failing test's message.</summary>
    public string Logs(int lastLines = 40) => Processes.Logs(lastLines);

    public async Task DisposeAsync()
    {
        if (Processes is not null) await Processes.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class StackCollection : ICollectionFixture<EndToEndStack>, ICollectionFixture<SignInStack>
{
    public const string Name = "vigil-stack";
}
