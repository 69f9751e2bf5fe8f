using System.Text;
using StackExchange.Redis;

namespace Vigil.Testing;

/// <summary>Where a needle was found: the key, and which part of it (its name, or a value, field or member).</summary>
public sealed record KeyspaceHit(string Key, string Needle, string Where);

/// <summary>
/// Reads a Redis keyspace whole (SCAN over every primary, then each key by its type: string, hash fields and values,
/// list items, set and sorted-set members) and finds the keys whose name or content holds any of the needles, as
/// bytes (a photo's stored bytes, an answer's text, an id, a hash). For erasure tests: what a learner left behind.
/// Values are read as Redis holds them, so a needle hidden in an encoding (base64, a protobuf) is found only if it
/// is given in that encoding.
/// </summary>
public static class KeyspaceScan
{
    /// <summary>Every hit of any needle in the keys matching <paramref name="pattern"/> (e.g. "vigil:*", or "*" for all).</summary>
    public static async Task<IReadOnlyList<KeyspaceHit>> FindAsync(IConnectionMultiplexer redis, string pattern, IReadOnlyDictionary<string, byte[]> needles)
    {
        var hits = new List<KeyspaceHit>();
        var db = redis.GetDatabase();
        foreach (var server in redis.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 1000))
            {
                var name = (byte[])key!;
                Check(hits, key, "name", name, needles);
                foreach (var (where, bytes) in await ContentsAsync(db, key))
                {
                    Check(hits, key, where, bytes, needles);
                }
            }
        }
        return hits;
    }

    /// <summary>The same with text needles (UTF-8).</summary>
    public static Task<IReadOnlyList<KeyspaceHit>> FindAsync(IConnectionMultiplexer redis, string pattern, IReadOnlyDictionary<string, string> needles) =>
        FindAsync(redis, pattern, needles.ToDictionary(n => n.Key, n => Encoding.UTF8.GetBytes(n.Value)));

    /// <summary>The hits as lines, for an assertion's message.</summary>
    public static string Describe(IEnumerable<KeyspaceHit> hits) => string.Join("\n", hits.Select(h => $"{h.Needle} in {h.Key} ({h.Where})"));

    private static void Check(List<KeyspaceHit> hits, RedisKey key, string where, byte[] haystack, IReadOnlyDictionary<string, byte[]> needles)
    {
        foreach (var (label, needle) in needles)
        {
            if (needle.Length > 0 && haystack.AsSpan().IndexOf(needle) >= 0) hits.Add(new KeyspaceHit(key.ToString(), label, where));
        }
    }

    private static async Task<IReadOnlyList<(string Where, byte[] Bytes)>> ContentsAsync(IDatabase db, RedisKey key)
    {
        // A key may expire or change between SCAN and the read: a read of nothing is nothing found.
        switch (await db.KeyTypeAsync(key))
        {
            case RedisType.String:
                return [("value", (byte[]?)await db.StringGetAsync(key) ?? [])];
            case RedisType.Hash:
                return (await db.HashGetAllAsync(key)).SelectMany(e => new[] { ("field " + e.Name, (byte[])e.Name!), ("value of " + e.Name, (byte[]?)e.Value ?? []) }).ToList();
            case RedisType.List:
                return (await db.ListRangeAsync(key)).Select((v, i) => ($"item {i}", (byte[]?)v ?? [])).ToList();
            case RedisType.Set:
                return (await db.SetMembersAsync(key)).Select(v => ("member", (byte[]?)v ?? [])).ToList();
            case RedisType.SortedSet:
                return (await db.SortedSetRangeByRankAsync(key)).Select(v => ("member", (byte[]?)v ?? [])).ToList();
            case RedisType.None:
                return [];
            default:
                throw new InvalidOperationException($"Key {key} is of a type the scan cannot read: {await db.KeyTypeAsync(key)}.");
        }
    }
}
