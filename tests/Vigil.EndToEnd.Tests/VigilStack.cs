using Grpc.Core;
using Grpc.Net.Client;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// The whole of Vigil as real processes on free loopback ports: identity, session, certificate and the
/// gateway in front, against the real Redis and RabbitMQ (virtual host "e2e"). Tests talk only to the gateway.
/// Clock skew is zero so that a short-lived token really expires during a test.
/// </summary>
public sealed class VigilStack : IAsyncLifetime
{
    /// <summary>The gateway's photo-upload limit per learner and window (the rate-limit test goes past it).</summary>
    public const int PhotoUploadsPerWindow = 6;

    /// <summary>Generous: a loaded CI machine starts four .NET processes slowly.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);

    private readonly List<ServiceProcess> _processes = [];

    public ServiceProcess Identity { get; private set; } = null!;
    public ServiceProcess Session { get; private set; } = null!;
    public ServiceProcess Certificate { get; private set; } = null!;
    public ServiceProcess Gateway { get; private set; } = null!;

    /// <summary>The gateway's gRPC address (h2c).</summary>
    public Uri GatewayGrpc => Gateway.GrpcAddress;

    /// <summary>The gateway's pages address (HTTP/1.1).</summary>
    public Uri GatewayPages => Gateway.HttpAddress;

    public async Task InitializeAsync()
    {
        int identityGrpc = ServiceProcess.FreePort(), sessionGrpc = ServiceProcess.FreePort(), certificateGrpc = ServiceProcess.FreePort();
        int identityHttp = ServiceProcess.FreePort(), sessionHttp = ServiceProcess.FreePort(), certificateHttp = ServiceProcess.FreePort();
        var common = new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = TestEnvironment.Redis,
            ["RabbitMq:Uri"] = TestEnvironment.RabbitMq("e2e"),
            ["Auth:Issuer"] = TestTokens.Issuer,
            ["Auth:Audience"] = TestTokens.Audience,
            ["Auth:ClockSkew"] = "00:00:00",
            ["Hosting:DrainDelay"] = "00:00:00.100",
            ["Services:Identity"] = $"http://127.0.0.1:{identityGrpc}",
            ["Services:Session"] = $"http://127.0.0.1:{sessionGrpc}",
            ["Services:Certificate"] = $"http://127.0.0.1:{certificateGrpc}",
        };
        var starts = new[]
        {
            ServiceProcess.StartAsync("services/identity/Vigil.Identity", common, identityGrpc, identityHttp, StartTimeout),
            ServiceProcess.StartAsync("services/session/Vigil.Session", common, sessionGrpc, sessionHttp, StartTimeout),
            ServiceProcess.StartAsync("services/certificate/Vigil.Certificate", common, certificateGrpc, certificateHttp, StartTimeout),
        };
        try
        {
            await Task.WhenAll(starts);
        }
        finally
        {
            foreach (var s in starts.Where(t => t.IsCompletedSuccessfully)) _processes.Add(s.Result);
        }
        Identity = starts[0].Result;
        Session = starts[1].Result;
        Certificate = starts[2].Result;

        var gateway = GatewaySettings.Merge(
            common,
            GatewaySettings.Cluster("identity", (Identity.GrpcAddress, Identity.HttpAddress)),
            GatewaySettings.Cluster("session", (Session.GrpcAddress, Session.HttpAddress)),
            GatewaySettings.Cluster("certificate", (Certificate.GrpcAddress, Certificate.HttpAddress)),
            GatewaySettings.HealthChecks(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3)),
            new Dictionary<string, string?>
            {
                ["Gateway:PhotoUploadsPerWindow"] = PhotoUploadsPerWindow.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Gateway:RateLimitWindow"] = "00:05:00",
            });
        Gateway = await ServiceProcess.StartAsync("gateway/Vigil.Gateway", gateway, timeout: StartTimeout);
        _processes.Add(Gateway);
        var ready = StartTimeout;
        await Task.WhenAll(Identity.WaitReadyAsync(ready), Session.WaitReadyAsync(ready), Certificate.WaitReadyAsync(ready), Gateway.WaitReadyAsync(ready));
        await WaitForHealthyDestinationsAsync();
    }

    /// <summary>A gRPC channel to the gateway sending <paramref name="token"/> (none when null).</summary>
    public GrpcChannel Channel(string? token)
    {
        return TestChannel.Create(GatewayGrpc, token, new GrpcChannelOptions { MaxReceiveMessageSize = 16 * 1024 * 1024 });
    }

    /// <summary>Everything the processes logged, for a failing test's message.</summary>
    public string Logs(int lastLines = 40) => string.Join("\n", _processes.Select(p =>
        $"--- {p.Name}\n" + string.Join("\n", p.Output.Split('\n').TakeLast(lastLines))));

    private async Task WaitForHealthyDestinationsAsync()
    {
        // The gateway's active health checks mark destinations healthy within an interval; a public call proves it.
        using var channel = Channel(null);
        var client = new Vigil.Contracts.Certificate.V1.CertificateVerificationService.CertificateVerificationServiceClient(channel);
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await client.VerifyCertificateAsync(new() { VerificationCode = "WARMUP-0000" });
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < until)
            {
                await Task.Delay(200);
            }
            catch (RpcException)
            {
                return;
            }
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var p in _processes) await p.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class StackCollection : ICollectionFixture<VigilStack>
{
    public const string Name = "vigil-stack";
}
