using StackExchange.Redis;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Outbox;
using Vigil.Session.Storage;
using Vigil.Testing;

namespace Vigil.Session.Tests.Storage;

/// <summary>Every branch of the relay's scripts (lease, read, removal, pending index), against the real Redis.</summary>
public sealed class OutboxStoreTests(StoreRedis redis) : IClassFixture<StoreRedis>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private (RedisStorage Storage, SessionKeys Keys, OutboxStore Store) New()
    {
        var storage = redis.NewStorage("outbox-store");
        var keys = new SessionKeys(storage.Keys);
        return (storage, keys, new OutboxStore(storage, keys));
    }

    private static async Task<(string SessionId, Guid[] Events)> WithEventsAsync(RedisStorage storage, SessionKeys keys, int count)
    {
        var sessionId = "ses-" + Guid.NewGuid().ToString("N");
        var events = Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var id in events)
        {
            await storage.Database.ListRightPushAsync(keys.Session(sessionId).Outbox, OutboxEntry.Serialize(SessionStoreTests.Expired(sessionId) with { EventId = id }));
        }
        return (sessionId, events);
    }

    [Fact]
    public async Task An_empty_outbox_takes_no_lease()
    {
        var (storage, keys, store) = New();
        var claim = await store.ClaimAsync("ses-empty", "a", TimeSpan.FromSeconds(30));
        Assert.Equal(OutboxClaimStatus.Empty, claim.Status);
        Assert.Empty(claim.Items);
        Assert.False(await storage.Database.KeyExistsAsync(keys.OutboxLease("ses-empty")));
    }

    [Fact]
    public async Task The_lease_holder_reads_the_entries_in_order_removes_what_was_published_and_lets_go()
    {
        var (storage, keys, store) = New();
        var (sessionId, events) = await WithEventsAsync(storage, keys, 3);

        var held = await store.ClaimAsync(sessionId, "a", TimeSpan.FromSeconds(30));
        Assert.Equal(OutboxClaimStatus.Held, held.Status);
        Assert.Equal(events, held.Items.Select(i => ((SessionExpired)i.Event!).EventId));
        Assert.All(held.Items, i => Assert.Equal(typeof(SessionExpired), i.Type));

        // Another relay meanwhile: busy.
        Assert.Equal(OutboxClaimStatus.Busy, (await store.ClaimAsync(sessionId, "b", TimeSpan.FromSeconds(30))).Status);

        // Two published, the third failed: it stays; the lease is released.
        Assert.Equal(1, await store.CompleteAsync(sessionId, "a", held.Items.Take(2)));
        Assert.False(await storage.Database.KeyExistsAsync(keys.OutboxLease(sessionId)));
        var again = await store.ClaimAsync(sessionId, "b", TimeSpan.FromSeconds(30));
        Assert.Equal([events[2]], again.Items.Select(i => ((SessionExpired)i.Event!).EventId));

        // A holder whose lease expired and was taken does not release the new holder's lease.
        Assert.Equal(1, await store.CompleteAsync(sessionId, "a", []));
        Assert.Equal("b", (string?)await storage.Database.StringGetAsync(keys.OutboxLease(sessionId)));
        Assert.Equal(0, await store.CompleteAsync(sessionId, "b", again.Items));
        Assert.Equal(OutboxClaimStatus.Empty, (await store.ClaimAsync(sessionId, "c", TimeSpan.FromSeconds(30))).Status);
    }

    [Fact]
    public async Task An_entry_this_version_cannot_read_is_handed_over_unread_and_left_in_place()
    {
        var (storage, keys, store) = New();
        var (sessionId, _) = await WithEventsAsync(storage, keys, 1);
        await storage.Database.ListRightPushAsync(keys.Session(sessionId).Outbox, "{\"type\":\"FromTheFuture\",\"event\":{}}");
        await storage.Database.ListRightPushAsync(keys.Session(sessionId).Outbox, "not json");

        var held = await store.ClaimAsync(sessionId, "a", TimeSpan.FromSeconds(30));
        Assert.Equal([true, false, false], held.Items.Select(i => i.Event is not null));
        Assert.Equal(2, await store.CompleteAsync(sessionId, "a", held.Items.Where(i => i.Event is not null)));
    }

    [Fact]
    public async Task The_pending_index_drops_a_session_only_when_announced_before_the_bound()
    {
        var (storage, keys, store) = New();
        await storage.Database.SortedSetAddAsync(keys.OutboxPending, [new SortedSetEntry("ses-old", T0.ToUnixTimeMilliseconds()), new SortedSetEntry("ses-new", T0.AddMinutes(1).ToUnixTimeMilliseconds())]);
        Assert.Equal([new PendingOutbox("ses-old", T0), new PendingOutbox("ses-new", T0.AddMinutes(1))], await store.PendingAsync(10));
        Assert.Equal([new PendingOutbox("ses-old", T0)], await store.PendingAsync(1));

        await store.DropIfAnnouncedBeforeAsync("ses-old", T0.AddSeconds(30));
        await store.DropIfAnnouncedBeforeAsync("ses-new", T0.AddSeconds(30));
        await store.DropIfAnnouncedBeforeAsync("ses-none", T0.AddSeconds(30));
        Assert.Equal([new PendingOutbox("ses-new", T0.AddMinutes(1))], await store.PendingAsync(10));
    }
}
