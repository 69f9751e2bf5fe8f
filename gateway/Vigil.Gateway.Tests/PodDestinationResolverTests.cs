using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Vigil.Gateway.Routing;
using Yarp.ReverseProxy.Configuration;

namespace Vigil.Gateway.Tests;

public sealed class PodDestinationResolverTests
{
    private readonly FakeTimeProvider _clock = new();
    private IPAddress[]? _answer;
    private bool _fail;

    private PodDestinationResolver Resolver() => new(new StaticOptions(), _clock, NullLogger<PodDestinationResolver>.Instance)
    {
        Lookup = (_, _) => _fail ? Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound)) : Task.FromResult(_answer!),
    };

    private static readonly Dictionary<string, DestinationConfig> Session = new()
    {
        ["session"] = new DestinationConfig { Address = "http://session:5102", Health = "http://session:5202" },
    };

    [Fact]
    public async Task A_name_becomes_one_destination_per_address_with_its_own_health_address()
    {
        _answer = [IPAddress.Parse("10.0.0.7"), IPAddress.Parse("10.0.0.5")];
        var resolved = (await Resolver().ResolveDestinationsAsync(Session, default)).Destinations;
        Assert.Equal(["session@10.0.0.5", "session@10.0.0.7"], resolved.Keys.Order());
        Assert.Equal("http://10.0.0.5:5102/", resolved["session@10.0.0.5"].Address);
        Assert.Equal("http://10.0.0.5:5202/", resolved["session@10.0.0.5"].Health);
        Assert.Equal("session:5102", resolved["session@10.0.0.5"].Host);
    }

    [Fact]
    public async Task Names_follow_the_address_whatever_the_order_of_the_answer()
    {
        var resolver = Resolver();
        _answer = [IPAddress.Parse("10.0.0.5"), IPAddress.Parse("10.0.0.7")];
        var first = (await resolver.ResolveDestinationsAsync(Session, default)).Destinations;
        _answer = [IPAddress.Parse("10.0.0.7"), IPAddress.Parse("10.0.0.9"), IPAddress.Parse("10.0.0.5")];
        var second = (await resolver.ResolveDestinationsAsync(Session, default)).Destinations;
        Assert.All(first, d => Assert.Equal(d.Value.Address, second[d.Key].Address));
        Assert.Equal("http://10.0.0.9:5102/", second["session@10.0.0.9"].Address);
    }

    [Fact]
    public async Task The_name_is_resolved_again_after_the_refresh_interval_and_not_before()
    {
        _answer = [IPAddress.Parse("10.0.0.5")];
        var resolved = await Resolver().ResolveDestinationsAsync(Session, default);
        var interval = new GatewayOptions().DestinationRefreshInterval;
        Assert.NotNull(resolved.ChangeToken);
        _clock.Advance(interval - TimeSpan.FromMilliseconds(1));
        Assert.False(resolved.ChangeToken.HasChanged);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(resolved.ChangeToken.HasChanged);
    }

    [Fact]
    public async Task A_failed_or_empty_lookup_keeps_the_addresses_seen_last_and_refreshes_again()
    {
        var resolver = Resolver();
        _answer = [IPAddress.Parse("10.0.0.5")];
        await resolver.ResolveDestinationsAsync(Session, default);
        _fail = true;
        var failed = await resolver.ResolveDestinationsAsync(Session, default);
        Assert.Equal(["session@10.0.0.5"], failed.Destinations.Keys);
        Assert.NotNull(failed.ChangeToken);
        _fail = false;
        _answer = [];
        Assert.Equal(["session@10.0.0.5"], (await resolver.ResolveDestinationsAsync(Session, default)).Destinations.Keys);
    }

    [Fact]
    public async Task A_name_that_never_resolved_gives_no_destination_rather_than_an_error()
    {
        _fail = true;
        var resolved = await Resolver().ResolveDestinationsAsync(Session, default);
        Assert.Empty(resolved.Destinations);
        Assert.NotNull(resolved.ChangeToken);
    }

    [Fact]
    public async Task Ip_literals_and_health_addresses_on_other_hosts_are_kept()
    {
        _answer = [IPAddress.Parse("10.0.0.5")];
        var resolved = (await Resolver().ResolveDestinationsAsync(new Dictionary<string, DestinationConfig>
        {
            ["a"] = new() { Address = "http://127.0.0.1:5102", Health = "http://127.0.0.1:5202" },
            ["b"] = new() { Address = "http://session:5102", Health = "http://monitor:80" },
        }, default)).Destinations;
        Assert.Equal("http://127.0.0.1:5102", resolved["a"].Address);
        Assert.Equal("http://monitor:80", resolved["b@10.0.0.5"].Health);
    }

    private sealed class StaticOptions : IOptionsMonitor<GatewayOptions>
    {
        public GatewayOptions CurrentValue { get; } = new();

        public GatewayOptions Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<GatewayOptions, string?> listener) => null;
    }
}
