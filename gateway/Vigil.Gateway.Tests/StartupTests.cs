namespace Vigil.Gateway.Tests;

/// <summary>A bad setting stops the gateway's start, with a message naming the key.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("Gateway:RateLimitWindow", "00:00:00", "Gateway:RateLimitWindow: The field RateLimitWindow must be between")]
    [InlineData("Gateway:PhotoUploadsPerWindow", "0", "Gateway:PhotoUploadsPerWindow: The field PhotoUploadsPerWindow must be between 1 and 100000.")]
    [InlineData("Auth:SigningKeys:0", "", "Auth:Authority and Auth:SigningKeys are both empty")]
    public void An_invalid_setting_stops_the_start(string key, string value, string expected)
    {
        using var gateway = new GatewayHost(new Dictionary<string, string?> { [key] = value });
        var ex = Assert.ThrowsAny<Exception>(() => gateway.Server);
        Assert.Contains(expected, ex.ToString(), StringComparison.Ordinal);
    }
}
