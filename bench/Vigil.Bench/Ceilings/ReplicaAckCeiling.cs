using System.Diagnostics;
using StackExchange.Redis;
using Vigil.Bench.Measure;
using Vigil.ServiceDefaults.Storage;
using Vigil.Testing;

namespace Vigil.Bench.Ceilings;

/// <summary>
/// What acknowledging a write by a replica costs (<c>Redis:AcknowledgeReplicas</c>): saves through the one write path
/// (<see cref="RedisStorage"/>: a save-sized HSET on a session's hash tag) to a primary that has a replica (both
/// <c>appendfsync always</c>, watched by redis-sentinel, started by <c>scripts/deps.sh</c>), acknowledged by the
/// primary's reply (0) or once the replica confirmed them (1: <c>WAIT 1</c> on the primary, shared by the writers that
/// finished together). Same writes, same servers, same concurrency: the difference is the replica's round trip.
/// </summary>
internal sealed class ReplicaAckCeiling : IAsyncDisposable
{
    private readonly RedisTopology _topology;
    private readonly ConnectionMultiplexer _reads;
    private readonly RedisWrites _waiting;
    private readonly RedisStorage _primaryOnly;
    private readonly RedisStorage _replicaConfirmed;

    private ReplicaAckCeiling(RedisTopology topology, ConnectionMultiplexer reads, ConnectionMultiplexer writes)
    {
        _topology = topology;
        _reads = reads;
        var keys = new RedisKeyspace("bench:replica-ack:");
        _waiting = RedisWrites.WaitingForReplicas(writes, 1, TimeSpan.FromSeconds(1), reads);
        _primaryOnly = new RedisStorage(reads, keys, RedisWrites.PrimaryOnly(reads));
        _replicaConfirmed = new RedisStorage(reads, keys, _waiting);
    }

    /// <summary>Starts a primary, its replica and three sentinels, and connects as a service does (a connection for writes that wait).</summary>
    public static async Task<ReplicaAckCeiling> StartAsync()
    {
        var topology = await RedisTopology.StartSentinelAsync();
        try
        {
            return new ReplicaAckCeiling(topology, await ConnectAsync(topology.Configuration), await ConnectAsync(topology.Configuration));
        }
        catch
        {
            await topology.DisposeAsync();
            throw;
        }
    }

    /// <summary>Saves for the window, <paramref name="concurrency"/> writers each waiting for its acknowledgement.</summary>
    public async Task<RawRun> RunAsync(int replicas, int concurrency, double warmup, double seconds)
    {
        var storage = replicas == 0 ? _primaryOnly : _replicaConfirmed;
        var value = new string('x', 200);
        var window = new CeilingWindow(warmup, seconds);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async c =>
        {
            var key = storage.Keys.Record("s", "bench-" + c).Part("answers");
            long n = 0;
            while (window.Open(out var started))
            {
                try
                {
                    var field = "q" + (n++ % 10);
                    await storage.WriteAsync(key, (db, k) => db.HashSetAsync(k, field, value, When.Always, CommandFlags.DemandMaster));
                    window.Completed(started);
                }
                catch (RedisException ex)
                {
                    window.Failed(ex.Message);
                }
            }
        }));
        return window.Result();
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AsyncTimeout = options.SyncTimeout = 5000;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    public async ValueTask DisposeAsync()
    {
        _waiting.Dispose();
        await _reads.DisposeAsync();
        await _topology.DisposeAsync();
    }
}
