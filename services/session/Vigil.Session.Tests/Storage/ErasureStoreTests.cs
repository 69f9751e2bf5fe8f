using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Erasure;
using Vigil.Session.Outbox;
using Vigil.Session.Storage;
using Vigil.Testing;

namespace Vigil.Session.Tests.Storage;

/// <summary>Every branch of the erasure request's scripts (StartErasure, RecordErasureReport), against the real Redis; its outbox through the relay's store.</summary>
public sealed class ErasureStoreTests(StoreRedis redis) : IClassFixture<StoreRedis>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private sealed record Subject(RedisStorage Storage, ErasureStore Store, OutboxStore Outbox, SessionKeys Keys, OutboxSignal Signal);

    private Subject New()
    {
        var storage = redis.NewStorage("erasure-store");
        var keys = new SessionKeys(storage.Keys);
        var signal = new OutboxSignal();
        return new Subject(storage, new ErasureStore(storage, keys, signal), new OutboxStore(storage, keys), keys, signal);
    }

    private static ErasureRecord Request(string requestId, string learnerId) =>
        new(requestId, learnerId, ErasureStore.Digest(learnerId), T0, "ops-1", "ticket-42", false, null, []);

    private static LearnerErasureRequested Event(string requestId, string learnerId) =>
        new() { EventId = Guid.NewGuid(), RequestId = requestId, LearnerId = learnerId, RequestedAt = T0 };

    [Fact]
    public async Task A_request_is_recorded_with_its_event_in_its_outbox_which_the_relay_takes_like_a_sessions()
    {
        var s = New();
        var evt = Event("req-1", "learner-1");
        Assert.Equal(StartStatus.Started, await s.Store.StartAsync(Request("req-1", "learner-1"), evt, T0));

        var stored = (await s.Store.GetAsync("req-1"))!;
        Assert.Equal(("learner-1", ErasureStore.Digest("learner-1"), T0, "ops-1", "ticket-42", false, (DateTimeOffset?)null),
            (stored.LearnerId, stored.LearnerDigest, stored.RequestedAt, stored.RequestedBy, stored.Reference, stored.Complete, stored.CompletedAt));
        Assert.Equal(ErasureServices.All, stored.Services.Select(p => p.Service));
        Assert.All(stored.Services, p => Assert.Null(p.CompletedAt));

        // Announced in the pending index and signalled to this replica's relay, as a session's outbox would be.
        var member = SessionKeys.ErasureOutboxMember("req-1");
        Assert.Contains(member, (await s.Outbox.PendingAsync(100)).Select(p => p.SessionId));
        Assert.True(s.Signal.Sessions.TryRead(out var signalled));
        Assert.Equal(member, signalled);
        var claim = await s.Outbox.ClaimAsync(member, "relay-a", TimeSpan.FromSeconds(30));
        Assert.Equal(OutboxClaimStatus.Held, claim.Status);
        var item = Assert.Single(claim.Items);
        Assert.Equal(evt, item.Event);
        Assert.Equal(0, await s.Outbox.CompleteAsync(member, "relay-a", claim.Items));
        Assert.Equal(OutboxClaimStatus.Empty, (await s.Outbox.ClaimAsync(member, "relay-a", TimeSpan.FromSeconds(30))).Status);
    }

    [Fact]
    public async Task The_same_request_again_resends_while_pending_answers_complete_after_and_refuses_another_learner()
    {
        var s = New();
        await s.Store.StartAsync(Request("req-2", "learner-2"), Event("req-2", "learner-2"), T0);
        Assert.Equal(StartStatus.Resent, await s.Store.StartAsync(Request("req-2", "learner-2") with { RequestedAt = T0.AddHours(1) }, Event("req-2", "learner-2"), T0.AddHours(1)));
        Assert.Equal(2, await s.Storage.Database.ListLengthAsync(s.Keys.ErasureRequest("req-2").Outbox));
        Assert.Equal(T0, (await s.Store.GetAsync("req-2"))!.RequestedAt);

        Assert.Equal(StartStatus.OtherLearner, await s.Store.StartAsync(Request("req-2", "learner-other"), Event("req-2", "learner-other"), T0));

        // Complete: the re-sent events still waiting went with the completion, and nothing is sent again.
        foreach (var service in ErasureServices.All) await s.Store.RecordReportAsync("req-2", Guid.NewGuid(), service, 1, T0.AddHours(2), TimeSpan.FromDays(30));
        Assert.Equal(0, await s.Storage.Database.ListLengthAsync(s.Keys.ErasureRequest("req-2").Outbox));
        Assert.Equal(StartStatus.AlreadyComplete, await s.Store.StartAsync(Request("req-2", "learner-2"), Event("req-2", "learner-2"), T0.AddHours(3)));
        Assert.Equal(0, await s.Storage.Database.ListLengthAsync(s.Keys.ErasureRequest("req-2").Outbox));
    }

    [Fact]
    public async Task Each_report_counts_once_a_services_counts_add_up_and_the_last_service_completes_the_request_without_the_learner_id()
    {
        var s = New();
        await s.Store.StartAsync(Request("req-3", "learner-3"), Event("req-3", "learner-3"), T0);
        var keep = TimeSpan.FromDays(1095);
        var identityReport = Guid.NewGuid();

        Assert.Equal(ReportStatus.Recorded, await s.Store.RecordReportAsync("req-3", identityReport, ErasureServices.Identity, 5, T0.AddMinutes(1), keep));
        // The same report redelivered: nothing changes. Another delivery of the request, handled side by side, erased
        // the rest: its count adds up, the service's completion time stays the first.
        Assert.Equal(ReportStatus.Duplicate, await s.Store.RecordReportAsync("req-3", identityReport, ErasureServices.Identity, 5, T0.AddMinutes(9), keep));
        Assert.Equal(ReportStatus.Added, await s.Store.RecordReportAsync("req-3", Guid.NewGuid(), ErasureServices.Identity, 2, T0.AddMinutes(9), keep));
        Assert.Equal(ReportStatus.Recorded, await s.Store.RecordReportAsync("req-3", Guid.NewGuid(), ErasureServices.Certificate, 2, T0.AddMinutes(2), keep));
        var pending = (await s.Store.GetAsync("req-3"))!;
        Assert.False(pending.Complete);
        Assert.Equal("learner-3", pending.LearnerId);
        Assert.Equal([(ErasureServices.Identity, (DateTimeOffset?)T0.AddMinutes(1), 7), (ErasureServices.Session, null, 0), (ErasureServices.Certificate, T0.AddMinutes(2), 2)],
            pending.Services.Select(p => (p.Service, p.CompletedAt, p.RecordsErased)));
        Assert.Null(await s.Storage.Database.KeyTimeToLiveAsync(s.Keys.ErasureRequest("req-3").Request)); // pending: kept

        var sessionReport = Guid.NewGuid();
        Assert.Equal(ReportStatus.Completed, await s.Store.RecordReportAsync("req-3", sessionReport, ErasureServices.Session, 2, T0.AddMinutes(3), keep));
        var done = (await s.Store.GetAsync("req-3"))!;
        Assert.True(done.Complete);
        Assert.Equal((null, ErasureStore.Digest("learner-3"), (DateTimeOffset?)T0.AddMinutes(3)), (done.LearnerId, done.LearnerDigest, done.CompletedAt));
        // The event (never relayed here) went with the completion: no key holds the learner's id.
        var hits = await KeyspaceScan.FindAsync(redis.Connection, s.Storage.Keys.Prefix + "*", new Dictionary<string, string> { ["learner id"] = "learner-3" });
        Assert.Empty(hits);
        Assert.False(await s.Storage.Database.KeyExistsAsync(s.Keys.ErasureRequest("req-3").Outbox));
        // Kept for Retention:ErasureRequests from its completion (the proof that it was carried out).
        var ttl = await s.Storage.Database.KeyTimeToLiveAsync(s.Keys.ErasureRequest("req-3").Request);
        Assert.InRange(ttl!.Value, keep - TimeSpan.FromMinutes(1), keep);

        Assert.Equal(ReportStatus.Duplicate, await s.Store.RecordReportAsync("req-3", sessionReport, ErasureServices.Session, 2, T0.AddMinutes(4), keep));
        Assert.Equal(ReportStatus.Added, await s.Store.RecordReportAsync("req-3", Guid.NewGuid(), ErasureServices.Session, 0, T0.AddMinutes(4), keep));
        Assert.True((await s.Store.GetAsync("req-3"))!.Complete);
        Assert.Equal(ReportStatus.Unknown, await s.Store.RecordReportAsync("req-none", Guid.NewGuid(), ErasureServices.Session, 0, T0, keep));
        Assert.Null(await s.Store.GetAsync("req-none"));
    }
}
