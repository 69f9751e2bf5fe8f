using StackExchange.Redis;

namespace Vigil.ServiceDefaults.Redis;

/// <summary>
/// What a Redis failure means for a caller: the one classification shared by the error interceptor (which status),
/// the write path (retry or not, follow a failover) and the background loops and consumers (pause and retry).
/// </summary>
public static class RedisFailure
{
    // Replies Redis gives BEFORE running anything, because of its own state; a failover, a resharding or a full
    // server passes (https://redis.io/docs/latest/develop/reference/protocol-spec/#simple-errors: the first word).
    private static readonly string[] StoreStates =
    [
        "CLUSTERDOWN", // the slot has no primary: the cluster is between a primary's death and its replica's promotion
        "TRYAGAIN",    // a multi-key command on a slot being migrated (resharding)
        "READONLY",    // a write reached a replica: the primary moved (a failover) and this client has not followed yet
        "MASTERDOWN",  // a replica that lost its primary refuses to serve stale data
        "LOADING",     // a restarted server still loads its append-only file
        "NOREPLICAS",  // min-replicas-to-write is not met
        "MISCONF",     // persistence failing: the server refuses writes
        "OOM",         // maxmemory reached (noeviction): the server refuses writes
        "BUSY",        // a script runs past its time limit
    ];

    /// <summary>
    /// Whether the store is unavailable rather than the request wrong: connection lost or refused, a timeout, a
    /// failover or resharding in progress, a write not acknowledged by enough replicas. The caller may retry; the
    /// client gets UNAVAILABLE with a retry hint, never INTERNAL.
    /// </summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        RedisConnectionException or RedisTimeoutException or StoreNotAcknowledgedException => true,
        RedisServerException server => StoreState(server) is not null,
        _ => false,
    };

    /// <summary>Whether Redis refused a multi-key command because its slot is being migrated: not run, retry at once.</summary>
    public static bool IsMigrating(Exception exception) => exception is RedisServerException server && StoreState(server) == "TRYAGAIN";

    /// <summary>
    /// Whether the failure says this client's view of the topology may be stale (a primary gone, a replica promoted,
    /// a write sent to a replica): the multiplexer should read the topology again.
    /// </summary>
    public static bool SuggestsFailover(Exception exception) => exception switch
    {
        RedisConnectionException => true,
        RedisServerException server => StoreState(server) is "CLUSTERDOWN" or "READONLY" or "MASTERDOWN",
        _ => false,
    };

    /// <summary>The error code of a refusal due to the store's state (<c>CLUSTERDOWN</c>, <c>READONLY</c>…), or null.</summary>
    public static string? StoreState(RedisServerException exception)
    {
        var message = exception.Message;
        foreach (var code in StoreStates)
        {
            if (message.StartsWith(code, StringComparison.Ordinal) && (message.Length == code.Length || message[code.Length] == ' ')) return code;
        }
        return null;
    }
}

/// <summary>
/// A write Redis carried out on its primary but that cannot be called acknowledged: too few replicas confirmed it
/// within <c>Redis:AcknowledgeTimeout</c>, or the connection it went over was replaced before they did. The write may
/// survive or not; the caller must not tell its client it is kept, and the client retries (every write is idempotent).
/// </summary>
public sealed class StoreNotAcknowledgedException(string message) : RedisException(message);
