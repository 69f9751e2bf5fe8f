using System.Net;
using System.Net.Sockets;
using Vigil.HealthProbe;

namespace Vigil.Deploy.Tests;

/// <summary>The container health probe (deploy/healthprobe) against a real HTTP listener on loopback.</summary>
public sealed class HealthProbeTests
{
    [Theory]
    [InlineData(200, Probe.Healthy)]
    [InlineData(204, Probe.Healthy)]
    [InlineData(503, Probe.Unhealthy)]
    [InlineData(500, Probe.Unhealthy)]
    public async Task Exit_code_follows_the_answer(int status, int expected)
    {
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var serve = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            Assert.Equal("/health/ready", context.Request.Url!.AbsolutePath);
            context.Response.StatusCode = status;
            context.Response.Close();
        });
        var error = new StringWriter();
        var code = await Probe.RunAsync([$"http://127.0.0.1:{port}/health/ready"], error, CancellationToken.None);
        await serve;
        Assert.Equal(expected, code);
        if (expected != Probe.Healthy) Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_listening_is_unhealthy()
    {
        var code = await Probe.RunAsync([$"http://127.0.0.1:{FreePort()}/health/live", "1"], TextWriter.Null, CancellationToken.None);
        Assert.Equal(Probe.Unhealthy, code);
    }

    [Fact]
    public async Task A_silent_server_times_out_as_unhealthy()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var started = DateTime.UtcNow;
        var code = await Probe.RunAsync([$"http://127.0.0.1:{port}/health/live", "0.5"], TextWriter.Null, CancellationToken.None);
        Assert.Equal(Probe.Unhealthy, code);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a url")]
    [InlineData("ftp://127.0.0.1/health")]
    [InlineData("http://127.0.0.1:1/health|-3")]
    [InlineData("http://127.0.0.1:1/health|1|extra")]
    public async Task Bad_arguments_are_a_usage_error(string joined)
    {
        var args = joined.Split('|', StringSplitOptions.RemoveEmptyEntries);
        var error = new StringWriter();
        Assert.Equal(Probe.UsageError, await Probe.RunAsync(args, error, CancellationToken.None));
        Assert.NotEmpty(error.ToString());
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
