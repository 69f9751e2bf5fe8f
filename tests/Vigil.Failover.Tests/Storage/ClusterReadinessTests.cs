using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Redis;
using Vigil.ServiceDefaults.Storage;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Failover.Tests.Storage;

/// <summary>
/// Readiness on a real Redis Cluster (3 primaries, 3 replicas) with writes acknowledged by a replica: one shard that
/// cannot acknowledge degrades readiness (the replicas stay in rotation: the other shards' sessions are served), only
/// every shard failing makes it unhealthy. It wrote one key on one shard before, and a CI run had every session replica
/// out of rotation after a failover of that shard until its old primary came back (the board's reads of the other
/// shards' sessions refused by the gateway for minutes).
/// </summary>
public sealed class ClusterReadinessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Primaries_whose_replicas_do_not_confirm_degrade_readiness_and_no_primary_taking_writes_makes_it_unhealthy()
    {
        // A node timeout well past the primaries' pause below: nothing fails over meanwhile.
        await using var topology = await RedisTopology.StartClusterAsync(nodeTimeoutMs: 15000);
        using var reads = await ConnectAsync(topology);
        using var writes = RedisWrites.WaitingForReplicas(await ConnectAsync(topology), 1, TimeSpan.FromMilliseconds(300), reads);
        await using var services = new ServiceCollection()
            .AddSingleton<IConnectionMultiplexer>(reads)
            .AddSingleton(new RedisStorage(reads, new RedisKeyspace("readiness-test:"), writes))
            .BuildServiceProvider();
        var check = new RedisHealthCheck(services);

        var keys = ReadinessKeys.For(reads, "readiness-test:readiness");
        var owners = new HashSet<int>();
        foreach (var key in keys) owners.Add((await topology.PrimaryOfAsync(key)).Port);
        Assert.Equal(3, keys.Count);
        Assert.Equal(3, owners.Count); // one key on each primary

        var healthy = await CheckAsync(check);
        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Contains("each of the 3 primaries", healthy.Description, StringComparison.Ordinal);

        var primaries = new List<RedisNode>();
        foreach (var key in keys) primaries.Add(await topology.PrimaryOfAsync(key));
        var replicas = new List<RedisNode>();
        foreach (var primary in primaries) replicas.Add(await topology.ReplicaOfAsync(primary));

        replicas[0].Pause();
        try
        {
            var degraded = await CheckAsync(check);
            output.WriteLine("[readiness] one replica paused: " + degraded.Status + ": " + degraded.Description);
            Assert.Equal(HealthStatus.Degraded, degraded.Status);
            Assert.Contains("1 of the 3 primaries", degraded.Description, StringComparison.Ordinal);

            // Every primary still takes writes; none can be acknowledged: still in rotation (reads are served, writes
            // get UNAVAILABLE with a retry hint on their own), as after a failover that left the promoted primary alone.
            replicas[1].Pause();
            replicas[2].Pause();
            var unconfirmed = await CheckAsync(check);
            output.WriteLine("[readiness] every replica paused: " + unconfirmed.Status + ": " + unconfirmed.Description);
            Assert.Equal(HealthStatus.Degraded, unconfirmed.Status);
            Assert.Contains("3 of the 3 primaries", unconfirmed.Description, StringComparison.Ordinal);
            Assert.Contains("reads are served", unconfirmed.Description, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var replica in replicas.Where(r => r.IsPaused)) replica.Resume();
        }
        await Eventually.Async(async () => (await CheckAsync(check)).Status == HealthStatus.Healthy, "readiness healthy again once the replicas resumed");

        // No primary answers at all (stopped for less than the cluster's node timeout, so nothing fails over): unhealthy.
        foreach (var primary in primaries) primary.Pause();
        try
        {
            var unhealthy = await CheckAsync(check);
            output.WriteLine("[readiness] every primary paused: " + unhealthy.Status + ": " + unhealthy.Description);
            Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
            Assert.Contains("did not take a write", unhealthy.Description, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var primary in primaries.Where(p => p.IsPaused)) primary.Resume();
        }
        await Eventually.Async(async () => (await CheckAsync(check)).Status == HealthStatus.Healthy, "readiness healthy again once the replicas resumed");
    }

    [Fact]
    public async Task Outside_a_cluster_readiness_writes_its_one_key()
    {
        await using var topology = await RedisTopology.StartSentinelAsync();
        using var reads = await ConnectAsync(topology);
        Assert.Equal(["readiness-test:readiness"], ReadinessKeys.For(reads, "readiness-test:readiness").Select(k => k.ToString()));
    }

    private static Task<HealthCheckResult> CheckAsync(RedisHealthCheck check) =>
        check.CheckHealthAsync(new HealthCheckContext { Registration = new HealthCheckRegistration("redis", check, HealthStatus.Unhealthy, null) });

    private static async Task<ConnectionMultiplexer> ConnectAsync(RedisTopology topology)
    {
        var options = ConfigurationOptions.Parse(topology.Configuration);
        options.AbortOnConnectFail = false;
        options.AsyncTimeout = options.SyncTimeout = 5000;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }
}
