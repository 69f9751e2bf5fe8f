using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Vigil.ServiceDefaults.Storage;

/// <summary>
/// The storage boundary every store stands on: the service's keyspace, reads, and the one way to write. A store
/// reads with <see cref="Database"/> (or <see cref="ReadAsync"/> for a script) and writes ONLY with the
/// <c>WriteAsync</c> overloads, each naming the key whose slot it writes. A write returns once it is acknowledged
/// (<see cref="RedisWrites"/>): on the primary's disk (<c>appendfsync always</c>) and, when Redis has replicas
/// (<c>Redis:AcknowledgeReplicas</c>), confirmed by that many of them. Scripts that write go to a primary only
/// (<see cref="CommandFlags.DemandMaster"/>), never to a replica while a failover is under way. Stores turn the
/// replies into records and enums; nothing above a store sees a Redis value.
/// </summary>
public sealed class RedisStorage
{
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisWrites _writes;

    /// <summary>A storage boundary whose writes are acknowledged by the primary's reply (store tests, one server).</summary>
    public RedisStorage(IConnectionMultiplexer redis, RedisKeyspace keys)
        : this(redis, keys, RedisWrites.PrimaryOnly(redis))
    {
    }

    /// <summary>A storage boundary reading over <paramref name="redis"/> and writing as <paramref name="writes"/> says.</summary>
    [ActivatorUtilitiesConstructor]
    public RedisStorage(IConnectionMultiplexer redis, RedisKeyspace keys, RedisWrites writes)
    {
        _redis = redis;
        _writes = writes;
        Keys = keys;
    }

    /// <summary>The service's keyspace (prefix and hash tags).</summary>
    public RedisKeyspace Keys { get; }

    /// <summary>The database, for reads. Writes go through <c>WriteAsync</c>.</summary>
    public IDatabase Database => _redis.GetDatabase();

    /// <summary>Pub/sub (notifications between replicas: not state, never durable).</summary>
    public ISubscriber Subscriber => _redis.GetSubscriber();

    /// <summary>Runs a script that only reads (retried while its slot is being migrated: nothing ran).</summary>
    public Task<RedisResult> ReadAsync(RedisScript script, object parameters) =>
        RedisWrites.ReadAsync(() => script.EvaluateAsync(Database, parameters, CommandFlags.None));

    /// <summary>Runs a script that writes (named parameters), all its keys in the slot of <paramref name="slot"/>.</summary>
    public Task<RedisResult> WriteAsync(RedisKey slot, RedisScript script, object parameters) =>
        _writes.RunAsync(slot, db => script.EvaluateAsync(db, parameters, CommandFlags.DemandMaster));

    /// <summary>Runs a variadic script that writes (see <see cref="RedisScript"/>), all its keys in the slot of <paramref name="slot"/>.</summary>
    public Task<RedisResult> WriteAsync(RedisKey slot, RedisScript script, RedisKey[] keys, RedisValue[] args) =>
        _writes.RunAsync(slot, db => script.EvaluateAsync(db, keys, args, CommandFlags.DemandMaster));

    /// <summary>
    /// Runs one plain write command on <paramref name="key"/> (an index entry, a claim, a tombstone). The command
    /// should pass <see cref="CommandFlags.DemandMaster"/>; one that does not and reaches a replica during a failover
    /// is refused by it (READONLY), which makes the connections re-read the topology.
    /// </summary>
    public Task<T> WriteAsync<T>(RedisKey key, Func<IDatabase, RedisKey, Task<T>> write) =>
        _writes.RunAsync(key, db => write(db, key));
}
