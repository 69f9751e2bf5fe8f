namespace Vigil.Session.Outbox;

/// <summary>
/// The relay's Lua scripts. Both run on a session's lease and outbox, which share the <c>{sessionId}</c> hash tag
/// (one Redis Cluster slot).
/// </summary>
internal static class OutboxScripts
{
    /// <summary>
    /// Takes the session's lease and reads its outbox in one step. KEYS: lease, outbox. ARGV: holder, lease (ms).
    /// Returns {empty} (nothing to relay: nothing written, no lease taken), {busy} (another relay holds it) or
    /// {ok, line…} (the lease is held: the caller runs <see cref="Complete"/>).
    /// </summary>
    public const string Claim = """
        if redis.call('LLEN', KEYS[2]) == 0 then return {'empty'} end
        if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'busy'} end
        local lines = redis.call('LRANGE', KEYS[2], 0, -1)
        table.insert(lines, 1, 'ok')
        return lines
        """;

    /// <summary>
    /// After the broker confirmed: removes the published lines, releases the lease if still held by this holder, and
    /// returns how many entries are left. KEYS: lease, outbox. ARGV: holder, then the published lines.
    /// </summary>
    public const string Complete = """
        for i = 2, #ARGV do redis.call('LREM', KEYS[2], 1, ARGV[i]) end
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
        return redis.call('LLEN', KEYS[2])
        """;
}
