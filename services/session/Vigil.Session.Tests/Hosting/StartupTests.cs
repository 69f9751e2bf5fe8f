using Vigil.Testing;

namespace Vigil.Session.Tests.Hosting;

/// <summary>A bad setting stops the session service's start, with a message naming the key.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("Session:SweepInterval", "00:00:00", "Session:SweepInterval: The field SweepInterval must be between")]
    [InlineData("Session:OutboxRelayConcurrency", "0", "Session:OutboxRelayConcurrency: The field OutboxRelayConcurrency must be between 1 and 1024.")]
    [InlineData("Session:IdentityCallTimeout", "-00:00:01", "Session:IdentityCallTimeout: The field IdentityCallTimeout must be between")]
    [InlineData("Services:Identity", "identity:5101", "Services:Identity must be an absolute http:// or https:// address")]
    public void An_invalid_setting_stops_the_start(string key, string value, string expected)
    {
        using var factory = new VigilServiceFactory<SessionApp>("session", new Dictionary<string, string?> { [key] = value });
        var ex = Assert.ThrowsAny<Exception>(() => factory.Server);
        Assert.Contains(expected, ex.ToString(), StringComparison.Ordinal);
    }
}
