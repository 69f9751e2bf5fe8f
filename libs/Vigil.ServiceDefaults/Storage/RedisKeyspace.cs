using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Redis;

namespace Vigil.ServiceDefaults.Storage;

/// <summary>
/// The one key scheme of every Vigil store: <c>&lt;prefix&gt;&lt;kind&gt;:{&lt;id&gt;}[:&lt;part&gt;]</c> for the keys of one
/// record (they share the hash tag <c>{id}</c>, so one Lua script may change them together on one Redis Cluster slot)
/// and <c>&lt;prefix&gt;&lt;name&gt;</c> for the indexes that span records (their own slot, written around the atomic
/// step in a crash-safe order). The prefix is the service's (<c>Redis:KeyPrefix</c>, e.g. <c>vigil:session:</c>).
/// Each store owns its layout (a small keys class built on this one); nothing else names a key.
/// </summary>
public sealed class RedisKeyspace
{
    /// <summary>The keyspace of the service's configured prefix.</summary>
    public RedisKeyspace(IOptions<RedisOptions> options)
        : this(options.Value.KeyPrefix)
    {
    }

    /// <summary>A keyspace with an explicit prefix (store tests use their own).</summary>
    public RedisKeyspace(string prefix)
    {
        if (!RedisOptions.IsValidKeyPrefix(prefix)) throw new ArgumentException(RedisOptions.KeyPrefixRule, nameof(prefix));
        Prefix = prefix;
    }

    /// <summary>The prefix of every key of the service.</summary>
    public string Prefix { get; }

    /// <summary>The keys of one record: <c>&lt;prefix&gt;&lt;kind&gt;:{&lt;id&gt;}</c> and its parts, all in the slot of <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentException">The id is empty (<c>{}</c> is no hash tag: the keys would scatter over slots).</exception>
    public RecordKeys Record(string kind, string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return new RecordKeys(Prefix + kind + ":{" + id + "}");
    }

    /// <summary>A key that spans records (an index): <c>&lt;prefix&gt;&lt;name&gt;</c>, in its own slot.</summary>
    public RedisKey Global(string name) => Prefix + name;

    /// <summary>A pub/sub channel of the service: <c>&lt;prefix&gt;&lt;name&gt;</c>.</summary>
    public RedisChannel Channel(string name) => RedisChannel.Literal(Prefix + name);
}

/// <summary>The keys of one record, all carrying its hash tag.</summary>
/// <param name="Root">The record's own key, <c>&lt;prefix&gt;&lt;kind&gt;:{&lt;id&gt;}</c>.</param>
public readonly record struct RecordKeys(string Root)
{
    /// <summary>The record's own key.</summary>
    public RedisKey Key => Root;

    /// <summary>A part of the record: <c>&lt;root&gt;:&lt;name&gt;</c>, same slot.</summary>
    public RedisKey Part(string name) => Root + ":" + name;
}
