using StackExchange.Redis;

namespace Vigil.ServiceDefaults.Storage;

/// <summary>
/// The storage boundary every store stands on: the service's keyspace, reads, and the one way to write. A store
/// reads with <see cref="Database"/> (or <see cref="ReadAsync"/> for a script) and writes ONLY with the
/// <c>WriteAsync</c> overloads, each naming the key whose slot it writes: with <c>appendfsync always</c> Redis
/// answers once the write is on disk, and <see cref="AcknowledgeAsync"/> is the one place where "durable" can grow
/// (replicas). Stores turn the replies into records and enums; nothing above a store sees a Redis value.
/// </summary>
public sealed class RedisStorage(IConnectionMultiplexer redis, RedisKeyspace keys)
{
    /// <summary>The service's keyspace (prefix and hash tags).</summary>
    public RedisKeyspace Keys => keys;

    /// <summary>The database, for reads. Writes go through <c>WriteAsync</c>.</summary>
    public IDatabase Database => redis.GetDatabase();

    /// <summary>Pub/sub (notifications between replicas: not state, never durable).</summary>
    public ISubscriber Subscriber => redis.GetSubscriber();

    /// <summary>Runs a script that only reads.</summary>
    public Task<RedisResult> ReadAsync(RedisScript script, object parameters) => script.EvaluateAsync(Database, parameters);

    /// <summary>Runs a script that writes (named parameters), all its keys in the slot of <paramref name="slot"/>.</summary>
    public async Task<RedisResult> WriteAsync(RedisKey slot, RedisScript script, object parameters)
    {
        var result = await script.EvaluateAsync(Database, parameters);
        await AcknowledgeAsync(slot);
        return result;
    }

    /// <summary>Runs a variadic script that writes (see <see cref="RedisScript"/>), all its keys in the slot of <paramref name="slot"/>.</summary>
    public async Task<RedisResult> WriteAsync(RedisKey slot, RedisScript script, RedisKey[] keys, RedisValue[] args)
    {
        var result = await script.EvaluateAsync(Database, keys, args);
        await AcknowledgeAsync(slot);
        return result;
    }

    /// <summary>Runs one plain write command on <paramref name="key"/> (an index entry, a claim, a tombstone).</summary>
    public async Task<T> WriteAsync<T>(RedisKey key, Func<IDatabase, RedisKey, Task<T>> write)
    {
        var result = await write(Database, key);
        await AcknowledgeAsync(key);
        return result;
    }

    /// <summary>
    /// Every write passes here once Redis has answered (on disk, with appendfsync always); issue 16 adds
    /// <c>WAIT &lt;replicas&gt; &lt;timeout&gt;</c> here, on the primary that owns <paramref name="slot"/>.
    /// </summary>
    private static Task AcknowledgeAsync(RedisKey slot) => Task.CompletedTask;
}
