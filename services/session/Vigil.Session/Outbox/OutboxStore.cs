using StackExchange.Redis;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Storage;

namespace Vigil.Session.Outbox;

/// <summary>A session announced in the outbox-pending index, with the time of its last announcement.</summary>
internal sealed record PendingOutbox(string SessionId, DateTimeOffset AnnouncedAt);

/// <summary>
/// One entry of a session's outbox: the event and its type, or neither when this version cannot read the line (it is
/// left in place). The stored line itself stays inside the store.
/// </summary>
internal sealed class OutboxItem
{
    internal OutboxItem(RedisValue line, object? evt, Type? type)
    {
        Line = line;
        Event = evt;
        Type = type;
    }

    /// <summary>The event, or null when unreadable.</summary>
    public object? Event { get; }

    /// <summary>The event's type, or null when unreadable.</summary>
    public Type? Type { get; }

    internal RedisValue Line { get; }
}

/// <summary>What taking a session's outbox found.</summary>
internal enum OutboxClaimStatus
{
    /// <summary>Nothing to relay: no lease was taken.</summary>
    Empty,
    /// <summary>Another relay holds the lease.</summary>
    Busy,
    /// <summary>The lease is held: relay <see cref="OutboxClaim.Items"/>, then complete.</summary>
    Held,
}

/// <summary>What taking a session's outbox found, with its entries in order when held.</summary>
internal sealed record OutboxClaim(OutboxClaimStatus Status, IReadOnlyList<OutboxItem> Items);

/// <summary>
/// The relay's side of the outbox: the pending index, and a session's outbox (a list under the session's hash tag)
/// with its lease (same slot); an erasure request's outbox is relayed the same way (its pending-index member is
/// <c>erasure/&lt;requestId&gt;</c>, see <see cref="SessionKeys.OutboxOf"/>; the "session id" below is that member). The writers' side (the event in the same script as the state change, the announcements)
/// is <see cref="SessionStore"/>'s.
/// </summary>
internal sealed class OutboxStore(RedisStorage storage, SessionKeys keys)
{
    private static readonly RedisScript ClaimScript = RedisScript.Load<OutboxStore>("ClaimOutbox");
    private static readonly RedisScript CompleteScript = RedisScript.LoadVariadic<OutboxStore>("CompleteOutbox");
    private static readonly RedisScript DropScript = RedisScript.Load<OutboxStore>("DropPending");

    /// <summary>The oldest announced sessions, at most <paramref name="take"/>.</summary>
    public async Task<IReadOnlyList<PendingOutbox>> PendingAsync(int take) =>
        (await storage.Database.SortedSetRangeByRankWithScoresAsync(keys.OutboxPending, 0, take - 1))
            .Select(e => new PendingOutbox(e.Element.ToString(), DateTimeOffset.FromUnixTimeMilliseconds((long)e.Score)))
            .ToList();

    /// <summary>Takes the session's lease for <paramref name="lease"/> and reads its outbox, in one step.</summary>
    public async Task<OutboxClaim> ClaimAsync(string sessionId, string holder, TimeSpan lease)
    {
        var (leaseKey, outbox) = keys.OutboxOf(sessionId);
        var r = (RedisResult[])(await storage.WriteAsync(leaseKey, ClaimScript, new
        {
            lease = leaseKey,
            outbox,
            holder,
            leaseMs = (long)lease.TotalMilliseconds,
        }))!;
        return r[0].ToString() switch
        {
            "empty" => new OutboxClaim(OutboxClaimStatus.Empty, []),
            "busy" => new OutboxClaim(OutboxClaimStatus.Busy, []),
            "ok" => new OutboxClaim(OutboxClaimStatus.Held, r.Skip(1).Select(x => Read((RedisValue)x)).ToList()),
            var other => throw new InvalidOperationException($"The ClaimOutbox script replied '{other}', which this version does not know."),
        };
    }

    /// <summary>
    /// After the broker confirmed <paramref name="published"/>: removes them, releases the lease if still held, and
    /// returns how many entries are left.
    /// </summary>
    public async Task<long> CompleteAsync(string sessionId, string holder, IEnumerable<OutboxItem> published)
    {
        var (leaseKey, outbox) = keys.OutboxOf(sessionId);
        return (long)await storage.WriteAsync(leaseKey, CompleteScript,
            [leaseKey, outbox], [holder, .. published.Select(i => i.Line)]);
    }

    /// <summary>Drops a session from the pending index unless it was announced at or after <paramref name="bound"/>.</summary>
    public Task DropIfAnnouncedBeforeAsync(string sessionId, DateTimeOffset bound) =>
        storage.WriteAsync(keys.OutboxPending, DropScript, new { pending = keys.OutboxPending, sessionId, bound = bound.ToUnixTimeMilliseconds() });

    private static OutboxItem Read(RedisValue line)
    {
        try
        {
            if (OutboxEntry.Deserialize(line.ToString()) is { } entry) return new OutboxItem(line, entry.Event, entry.Type);
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return new OutboxItem(line, null, null);
    }
}
