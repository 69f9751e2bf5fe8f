using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Vigil.Testing;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>The real Redis the tests run against is as durable as production, and the shared multiplexer works.</summary>
public sealed class RedisTests
{
    [Fact]
    public async Task Test_redis_runs_with_an_fsynced_append_only_file()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis + ",allowAdmin=true");
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var config = (await server.ConfigGetAsync("append*")).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("yes", config["appendonly"]);
        Assert.Equal("always", config["appendfsync"]);
    }

    [Fact]
    public async Task The_shared_multiplexer_writes_and_reads_back()
    {
        await using var app = await TestHost.StartAsync();
        var db = app.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var key = $"defaults-test:{{{Guid.NewGuid():N}}}:value";
        var value = Guid.NewGuid().ToString();
        Assert.True(await db.StringSetAsync(key, value, TimeSpan.FromMinutes(1)));
        Assert.Equal(value, (string?)await db.StringGetAsync(key));
        // A second connection (another replica) sees the same value: Redis holds the state, not the process.
        await using var other = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        Assert.Equal(value, (string?)await other.GetDatabase().StringGetAsync(key));
    }
}
