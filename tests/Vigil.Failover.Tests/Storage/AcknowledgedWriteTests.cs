using System.Globalization;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Redis;
using Vigil.ServiceDefaults.Storage;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Failover.Tests.Storage;

/// <summary>
/// The one write path against real replicas: a write is acknowledged only once a replica has it, a paused replica
/// makes writes refused (never acknowledged), concurrent writers share their WAITs, and a write that a resharding
/// redirects to another node waits on THAT node's replicas.
/// </summary>
public sealed class AcknowledgedWriteTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task A_write_is_acknowledged_once_its_replica_has_it_and_refused_while_the_replica_is_paused()
    {
        await using var topology = await RedisTopology.StartSentinelAsync();
        using var reads = await ConnectAsync(topology);
        using var writes = RedisWrites.WaitingForReplicas(await ConnectAsync(topology), 1, Timeout, reads);
        var storage = new RedisStorage(reads, new RedisKeyspace("failover-test:"), writes);
        var primary = await topology.PrimaryAsync();
        var replica = await topology.ReplicaOfAsync(primary);
        var key = storage.Keys.Record("s", "ack-1").Key;

        await SetAsync(storage, key, "first");
        // Acknowledged means the replica has it, at that instant.
        Assert.Equal("first", await replica.CommandAsync("GET", key.ToString()));

        replica.Pause();
        try
        {
            var started = DateTime.UtcNow;
            var refused = await Assert.ThrowsAsync<StoreNotAcknowledgedException>(() => SetAsync(storage, key, "second"));
            Assert.True(DateTime.UtcNow - started >= Timeout - TimeSpan.FromMilliseconds(50), "refused before the acknowledgement timeout");
            Assert.Contains("0 of the 1 replica(s)", refused.Message, StringComparison.Ordinal);
            Assert.True(RedisFailure.IsUnavailable(refused));
            // Carried out on the primary, and not acknowledged: the client is told to retry.
            Assert.Equal("second", await primary.CommandAsync("GET", key.ToString()));
        }
        finally
        {
            replica.Resume();
        }
        await SetAsync(storage, key, "third");
        Assert.Equal("third", await replica.CommandAsync("GET", key.ToString()));
    }

    [Fact]
    public async Task Writers_that_finish_together_share_one_WAIT_and_each_is_covered()
    {
        await using var topology = await RedisTopology.StartSentinelAsync();
        using var reads = await ConnectAsync(topology);
        using var writes = RedisWrites.WaitingForReplicas(await ConnectAsync(topology), 1, TimeSpan.FromSeconds(2), reads);
        var storage = new RedisStorage(reads, new RedisKeyspace("failover-test:"), writes);
        var primary = await topology.PrimaryAsync();
        var replica = await topology.ReplicaOfAsync(primary);
        await SetAsync(storage, storage.Keys.Global("warm"), "up");

        const int Writers = 200;
        var waitsBefore = await WaitCallsAsync(primary);
        var keys = Enumerable.Range(0, Writers).Select(i => storage.Keys.Record("s", "group-" + i).Key).ToList();
        await Task.WhenAll(keys.Select(k => SetAsync(storage, k, "v-" + k.ToString())));
        var waits = await WaitCallsAsync(primary) - waitsBefore;
        output.WriteLine($"[failover] {Writers} concurrent writes acknowledged with {waits} WAIT(s) on the primary");
        Assert.InRange(waits, 1, Writers - 1);
        // Every one of them is on the replica.
        foreach (var key in keys) Assert.Equal("v-" + key.ToString(), await replica.CommandAsync("GET", key.ToString()));
    }

    [Fact]
    public async Task A_write_a_resharding_redirects_waits_on_the_node_that_carried_it()
    {
        await using var topology = await RedisTopology.StartClusterAsync();
        using var reads = await ConnectAsync(topology);
        using var writes = RedisWrites.WaitingForReplicas(await ConnectAsync(topology), 1, Timeout, reads);
        var storage = new RedisStorage(reads, new RedisKeyspace("failover-test:"), writes);
        var key = storage.Keys.Record("s", "moving").Key;
        await SetAsync(storage, key, "before");

        // Move the key's slot by hand, as redis-cli --cluster reshard does, and stop halfway: the key is on the target,
        // the slot still belongs to the source, so the source answers ASK and the write runs on the target.
        var slot = (await topology.Nodes[0].CommandAsync("CLUSTER", "KEYSLOT", key.ToString())).Trim();
        var source = await topology.PrimaryOfAsync(key);
        var target = (await Task.WhenAll(topology.Nodes.Select(async n => (Node: n, Role: await n.CommandAsync("ROLE")))))
            .First(n => n.Node != source && n.Role.StartsWith("master", StringComparison.Ordinal)).Node;
        await target.CommandAsync("CLUSTER", "SETSLOT", slot, "IMPORTING", await source.CommandAsync("CLUSTER", "MYID"));
        await source.CommandAsync("CLUSTER", "SETSLOT", slot, "MIGRATING", await target.CommandAsync("CLUSTER", "MYID"));
        Assert.Equal("OK", await source.CommandAsync("MIGRATE", "127.0.0.1", target.Port.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", key.ToString()));

        var targetReplica = await topology.ReplicaOfAsync(target);
        var sourceWaits = await WaitCallsAsync(source);
        var targetWaits = await WaitCallsAsync(target);
        await SetAsync(storage, key, "redirected");
        Assert.True(await WaitCallsAsync(target) > targetWaits, "no WAIT on the node that carried the write");
        output.WriteLine($"[failover] redirected write: WAITs on the target {await WaitCallsAsync(target) - targetWaits}, on the source {await WaitCallsAsync(source) - sourceWaits}");

        // The proof it waited for the target's replica: with that replica paused, the redirected write is refused,
        // although the source's replica is fine.
        targetReplica.Pause();
        try
        {
            await Assert.ThrowsAsync<StoreNotAcknowledgedException>(() => SetAsync(storage, key, "target replica paused"));
        }
        finally
        {
            targetReplica.Resume();
        }
        await SetAsync(storage, key, "after");
    }

    private static Task SetAsync(RedisStorage storage, RedisKey key, string value) =>
        storage.WriteAsync(key, (db, k) => db.StringSetAsync(k, value, TimeSpan.FromMinutes(10), When.Always, CommandFlags.DemandMaster));

    private static async Task<ConnectionMultiplexer> ConnectAsync(RedisTopology topology)
    {
        var options = ConfigurationOptions.Parse(topology.Configuration);
        options.AbortOnConnectFail = false;
        options.AsyncTimeout = options.SyncTimeout = 5000;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    /// <summary>How many WAITs a node has run (INFO commandstats).</summary>
    private static async Task<long> WaitCallsAsync(RedisNode node)
    {
        var line = (await node.CommandAsync("INFO", "commandstats")).Split('\n').Select(l => l.Trim())
            .FirstOrDefault(l => l.StartsWith("cmdstat_wait:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(',')[0]["cmdstat_wait:calls=".Length..], CultureInfo.InvariantCulture);
    }
}
