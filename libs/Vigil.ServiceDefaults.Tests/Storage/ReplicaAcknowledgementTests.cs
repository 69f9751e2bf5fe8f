using System.Net;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Redis;
using Vigil.ServiceDefaults.Storage;

namespace Vigil.ServiceDefaults.Tests.Storage;

/// <summary>
/// <c>Redis:AcknowledgeReplicas</c> against the real standalone server of the tests, which has no replica: a write
/// that asks for one is carried out but never acknowledged, and readiness says so, Degraded (still in rotation: reads are
/// served, as after a failover that left the promoted primary without a replica). (With
/// real replicas, and through failovers: tests/Vigil.Failover.Tests.)
/// </summary>
public sealed class ReplicaAcknowledgementTests
{
    [Fact]
    public async Task Without_replicas_to_wait_for_a_write_is_acknowledged_by_the_primary_alone()
    {
        await using var app = await TestHost.StartAsync();
        var writes = app.Services.GetRequiredService<RedisWrites>();
        Assert.Equal(0, writes.Replicas);
        Assert.Same(app.Services.GetRequiredService<IConnectionMultiplexer>(), writes.Connection);
        var storage = app.Services.GetRequiredService<RedisStorage>();
        var key = storage.Keys.Global("ack-test:" + Guid.NewGuid().ToString("N"));
        Assert.True(await storage.WriteAsync(key, (db, k) => db.StringSetAsync(k, "kept", TimeSpan.FromMinutes(1), When.Always, CommandFlags.DemandMaster)));
        Assert.Equal("kept", (string?)await storage.Database.StringGetAsync(key));
    }

    [Fact]
    public async Task A_write_no_replica_confirms_is_carried_out_but_not_acknowledged_and_readiness_is_degraded()
    {
        await using var app = await TestHost.StartAsync(settings: new()
        {
            ["Redis:AcknowledgeReplicas"] = "1",
            ["Redis:AcknowledgeTimeout"] = "00:00:00.150",
        });
        var writes = app.Services.GetRequiredService<RedisWrites>();
        Assert.Equal(1, writes.Replicas);
        // Writes wait on a connection of their own: a WAIT holds its connection until the replicas answer.
        Assert.NotSame(app.Services.GetRequiredService<IConnectionMultiplexer>(), writes.Connection);
        var storage = app.Services.GetRequiredService<RedisStorage>();
        var key = storage.Keys.Global("ack-test:" + Guid.NewGuid().ToString("N"));
        var refused = await Assert.ThrowsAsync<StoreNotAcknowledgedException>(() =>
            storage.WriteAsync(key, (db, k) => db.StringSetAsync(k, "on the primary only", TimeSpan.FromMinutes(1), When.Always, CommandFlags.DemandMaster)));
        Assert.Contains("0 of the 1 replica(s)", refused.Message, StringComparison.Ordinal);
        Assert.True(RedisFailure.IsUnavailable(refused));
        // Carried out on the primary (the client retries; every write is idempotent), never acknowledged.
        Assert.Equal("on the primary only", (string?)await storage.Database.StringGetAsync(key));

        using var client = app.GetTestClient();
        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var body = System.Text.Json.JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        var redis = body.RootElement.GetProperty("checks").GetProperty("redis");
        Assert.Equal("Degraded", redis.GetProperty("status").GetString());
        Assert.Contains("reads are served", redis.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_write_while_no_server_owns_its_slot_is_a_store_outage_not_a_bug()
    {
        // Nobody listens there: like a Sentinel failover's seconds between the primary's death and the promotion.
        using var nowhere = await ConnectionMultiplexer.ConnectAsync("127.0.0.1:1,abortConnect=false,connectTimeout=200,connectRetry=0");
        using var writes = RedisWrites.WaitingForReplicas(nowhere, 1, TimeSpan.FromMilliseconds(150));
        var storage = new RedisStorage(nowhere, new RedisKeyspace("outage-test:"), writes);
        var failure = await Assert.ThrowsAnyAsync<RedisException>(() =>
            storage.WriteAsync(storage.Keys.Global("k"), (db, k) => db.StringSetAsync(k, "v", TimeSpan.FromMinutes(1), When.Always, CommandFlags.DemandMaster)));
        Assert.True(RedisFailure.IsUnavailable(failure), failure.ToString());
    }

    [Theory]
    [InlineData("Redis:AcknowledgeReplicas", "-1", "AcknowledgeReplicas")]
    [InlineData("Redis:AcknowledgeReplicas", "17", "AcknowledgeReplicas")]
    [InlineData("Redis:AcknowledgeTimeout", "00:00:00.001", "Redis:AcknowledgeTimeout")]
    [InlineData("Redis:AcknowledgeTimeout", "00:01:00", "Redis:AcknowledgeTimeout")]
    public async Task An_acknowledgement_setting_out_of_range_stops_the_start(string key, string value, string named)
    {
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => TestHost.StartAsync(settings: new() { [key] = value }));
        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
    }
}
