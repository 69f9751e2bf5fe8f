using Microsoft.Extensions.Time.Testing;
using Vigil.Cli.SignIn;

namespace Vigil.Cli.Tests.SignIn;

/// <summary>The device grant's polling (RFC 8628 §3.5) on a fake clock: the provider's pace, slow_down, and the ends.</summary>
public sealed class DevicePollingTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));

    private static TokenResponse Error(string error) => new(null, null, null, error, null);

    [Fact]
    public void Pending_waits_the_providers_interval_and_slow_down_widens_it_by_five_seconds_for_good()
    {
        var polling = new DevicePolling(_clock, TimeSpan.FromSeconds(2), _clock.GetUtcNow().AddMinutes(10));

        Assert.Equal(new PollStep.Wait(TimeSpan.FromSeconds(2)), polling.Next(Error("authorization_pending")));
        Assert.Equal(new PollStep.Wait(TimeSpan.FromSeconds(7)), polling.Next(Error("slow_down")));
        Assert.Equal(new PollStep.Wait(TimeSpan.FromSeconds(7)), polling.Next(Error("authorization_pending")));
        Assert.Equal(new PollStep.Wait(TimeSpan.FromSeconds(12)), polling.Next(Error("slow_down")));
    }

    [Fact]
    public void Without_an_interval_from_the_provider_it_waits_five_seconds()
    {
        var polling = new DevicePolling(_clock, null, _clock.GetUtcNow().AddMinutes(10));
        Assert.Equal(new PollStep.Wait(TimeSpan.FromSeconds(5)), polling.Next(Error("authorization_pending")));
    }

    [Fact]
    public void Tokens_end_it()
    {
        var polling = new DevicePolling(_clock, null, _clock.GetUtcNow().AddMinutes(10));
        var tokens = new TokenResponse("a", "r", TimeSpan.FromMinutes(15), null, null);
        Assert.Equal(new PollStep.Done(tokens), polling.Next(tokens));
    }

    [Theory]
    [InlineData("access_denied", "refused at the identity provider")]
    [InlineData("expired_token", "expired before the device was signed in")]
    [InlineData("invalid_client", "invalid_client")]
    public void A_refusal_or_an_expired_code_ends_it_with_what_to_do(string error, string says)
    {
        var polling = new DevicePolling(_clock, null, _clock.GetUtcNow().AddMinutes(10));
        var failed = Assert.IsType<PollStep.Failed>(polling.Next(Error(error)));
        Assert.Contains(says, failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Once_the_code_would_have_expired_before_the_next_poll_it_ends_without_asking_again()
    {
        var polling = new DevicePolling(_clock, TimeSpan.FromSeconds(5), _clock.GetUtcNow().AddSeconds(30));
        _clock.Advance(TimeSpan.FromSeconds(24));
        Assert.IsType<PollStep.Wait>(polling.Next(Error("authorization_pending")));
        _clock.Advance(TimeSpan.FromSeconds(1));
        var failed = Assert.IsType<PollStep.Failed>(polling.Next(Error("authorization_pending")));
        Assert.Contains("expired_token", failed.Message, StringComparison.Ordinal);
    }
}
