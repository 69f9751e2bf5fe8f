using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Health;

namespace Vigil.Gateway.Tests;

/// <summary>A bad setting stops the gateway's start, with a message naming the key.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("Gateway:RateLimitWindow", "00:00:00", "Gateway:RateLimitWindow: The field RateLimitWindow must be between")]
    [InlineData("Gateway:PhotoUploadsPerWindow", "0", "Gateway:PhotoUploadsPerWindow: The field PhotoUploadsPerWindow must be between 1 and 100000.")]
    [InlineData("Auth:SigningKeys:0", "", "Auth:Authority and Auth:SigningKeys are both empty")]
    [InlineData("Gateway:PassiveHealthWindow", "00:00:00", "Gateway:PassiveHealthWindow: The field PassiveHealthWindow must be between")]
    public void An_invalid_setting_stops_the_start(string key, string value, string expected)
    {
        using var gateway = new GatewayHost(new Dictionary<string, string?> { [key] = value });
        var ex = Assert.ThrowsAny<Exception>(() => gateway.Server);
        Assert.Contains(expected, ex.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// YARP's passive check keeps a destination it marked unhealthy out for at least its window (60 s unless told),
    /// whatever the cluster's ReactivationPeriod: the gateway sets the window (10 s), so a restarted replica is routed
    /// to again within seconds. The reconnect storm of the benchmark smoke (every learner must resume) is the test of
    /// the behaviour; this one holds the wiring.
    /// </summary>
    [Theory]
    [InlineData(null, 10)]
    [InlineData("00:00:30", 30)]
    public void The_passive_health_window_is_the_gateways_setting(string? window, int expectedSeconds)
    {
        var settings = new Dictionary<string, string?>();
        if (window is not null) settings["Gateway:PassiveHealthWindow"] = window;
        using var gateway = new GatewayHost(settings);
        var passive = gateway.Services.GetRequiredService<IOptions<TransportFailureRateHealthPolicyOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), passive.DetectionWindowSize);
    }
}
