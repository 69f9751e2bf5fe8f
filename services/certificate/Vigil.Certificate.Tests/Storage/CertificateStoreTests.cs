using System.Threading.Channels;
using Vigil.Certificate.Results;
using Vigil.Certificate.Store;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Storage;
using Vigil.Testing;
using static Vigil.Certificate.Tests.Infrastructure.Events;

namespace Vigil.Certificate.Tests.Storage;

/// <summary>Every branch of every certificate script, against the real Redis, through the store's typed results.</summary>
public sealed class CertificateStoreTests(StoreRedis redis) : IClassFixture<StoreRedis>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private (RedisStorage Storage, CertificateKeys Keys, CertificateStore Store) New()
    {
        var storage = redis.NewStorage("certificate-store");
        var keys = new CertificateKeys(storage.Keys);
        return (storage, keys, new CertificateStore(storage, keys));
    }

    private static Projection Shown(ResultStatus status, CertificateState? certificate = null) => new(status, "because", string.Empty, true, certificate);

    private static IssuedCertificate Issued(string code) => new("cert-1", code, T0, [1, 2, 3], [4, 5], "key-1");

    [Fact]
    public async Task A_fact_is_applied_once_and_returns_the_session_as_it_left_it()
    {
        var (_, _, store) = New();
        var (session, learner) = (NewId("s"), NewId("l"));
        var submitted = Submitted(session, learner, score: 72, kind: SubmissionKind.DeadlinePolicy) with { SubmittedAt = T0 };

        var (result, record) = await store.ApplySubmittedAsync(submitted);
        Assert.Equal(FactResult.Applied, result);
        Assert.Equal((learner, "exam-1", "course-1", SubmissionState.Validated, 72.0, 100.0, 60.0, true, T0, "Zoë Martin", 1L),
            (record!.LearnerId, record.ExamId, record.CourseId, record.Submission, record.Score, record.MaxScore, record.PassMark, record.IdPhotoAccepted, record.SubmittedAt, record.LearnerName, record.FactsRevision));

        var (again, same) = await store.ApplySubmittedAsync(submitted);
        Assert.Equal(FactResult.Duplicate, again);
        Assert.Equal(1, same!.FactsRevision);

        // A second submission (another event) and a later expiry change nothing.
        Assert.Equal(FactResult.Superseded, (await store.ApplySubmittedAsync(Submitted(session, learner, score: 10))).Result);
        Assert.Equal(FactResult.Superseded, (await store.ApplyExpiredAsync(Expired(session, learner))).Result);
        var kept = await store.GetAsync(session);
        Assert.Equal((72.0, SubmissionState.Validated, 1L), (kept!.Score, kept.Submission, kept.FactsRevision));
    }

    [Fact]
    public async Task A_submission_overrides_an_earlier_expiry()
    {
        var (_, _, store) = New();
        var (session, learner) = (NewId("s"), NewId("l"));
        var (expired, record) = await store.ApplyExpiredAsync(Expired(session, learner) with { ExpiredAt = T0 });
        Assert.Equal(FactResult.Applied, expired);
        Assert.Equal((SubmissionState.Expired, T0), (record!.Submission, record.SubmittedAt));
        Assert.Equal(FactResult.Applied, (await store.ApplySubmittedAsync(Submitted(session, learner))).Result);
        Assert.Equal(SubmissionState.Validated, (await store.GetAsync(session))!.Submission);
    }

    [Fact]
    public async Task Only_a_higher_decision_version_replaces_the_one_in_force_even_before_the_submission()
    {
        var (_, _, store) = New();
        var (session, learner) = (NewId("s"), NewId("l"));
        var (first, record) = await store.ApplyDecisionAsync(Decision(session, learner, 1, DecisionOutcome.Valid) with { DecidedAt = T0 });
        Assert.Equal(FactResult.Applied, first);
        Assert.Equal(((DecisionOutcome?)DecisionOutcome.Valid, 1L, T0, SubmissionState.Unknown),
            (record!.Decision, record.DecisionVersion, record.DecidedAt, record.Submission));

        Assert.Equal(FactResult.Superseded, (await store.ApplyDecisionAsync(Decision(session, learner, 1, DecisionOutcome.Refused))).Result);
        var (second, withdrawn) = await store.ApplyDecisionAsync(Decision(session, learner, 2, DecisionOutcome.Withdrawn, "REFUSAL_REASON_CAMERA", "Camera off."));
        Assert.Equal(FactResult.Applied, second);
        Assert.Equal((2L, "REFUSAL_REASON_CAMERA", "Camera off."), (withdrawn!.DecisionVersion, withdrawn.DecisionReasonCode, withdrawn.DecisionReasonText));
        Assert.Equal(FactResult.Superseded, (await store.ApplyDecisionAsync(Decision(session, learner, 1, DecisionOutcome.Valid))).Result);

        Assert.Equal(FactResult.Applied, (await store.ApplySubmittedAsync(Submitted(session, learner))).Result);
        Assert.Equal(2, (await store.GetAsync(session))!.DecisionVersion);
    }

    [Fact]
    public async Task The_projection_is_a_compare_and_set_and_a_new_certificate_is_written_with_it()
    {
        var (_, _, store) = New();
        var (session, learner) = (NewId("s"), NewId("l"));
        await store.ApplySubmittedAsync(Submitted(session, learner));
        Assert.Null((await store.GetAsync(session))!.Projection);

        Assert.Equal(ProjectionWrite.Written, await store.TryWriteProjectionAsync(session, 0, Shown(ResultStatus.BeingChecked), null, T0));
        // A writer that read revision 0 too loses.
        Assert.Equal(ProjectionWrite.Conflict, await store.TryWriteProjectionAsync(session, 0, Shown(ResultStatus.NotPassed), null, T0));
        var underReview = (await store.GetAsync(session))!;
        Assert.Equal((Shown(ResultStatus.BeingChecked), 1L, T0), (underReview.Projection, underReview.ProjectionRevision, underReview.UpdatedAt));

        var code = "CODE-" + Guid.NewGuid().ToString("N")[..8];
        Assert.True(await store.ReserveCodeAsync(code, session));
        Assert.False(await store.ReserveCodeAsync(code, "another-session"));
        Assert.Null(await store.FindByCodeAsync(code)); // reserved, not yet held by the session's certificate
        var granted = Shown(ResultStatus.Certified, new CertificateState(CertificateStatus.Valid, null, string.Empty));
        Assert.Equal(ProjectionWrite.Written, await store.TryWriteProjectionAsync(session, 1, granted, Issued(code), T0.AddMinutes(1)));
        var certified = (await store.FindByCodeAsync(code))!;
        Assert.Equal(granted, certified.Projection);
        Assert.Equal(("cert-1", code, T0, "key-1", CertificateStatus.Valid), (certified.CertificateId, certified.CertificateCode, certified.CertificateIssuedAt, certified.CertificateKeyId, certified.CertificateStatus));
        Assert.Equal([1, 2, 3], certified.CertificatePayload);
        Assert.Equal([4, 5], certified.CertificateSignature);

        var withdrawn = Shown(ResultStatus.Withdrawn, new CertificateState(CertificateStatus.Withdrawn, T0.AddDays(1), "Camera off."));
        Assert.Equal(ProjectionWrite.Written, await store.TryWriteProjectionAsync(session, 2, withdrawn, null, T0.AddDays(1)));
        var after = (await store.GetAsync(session))!;
        Assert.Equal((withdrawn, "cert-1", 3L), (after.Projection, after.CertificateId, after.ProjectionRevision));

        // A code given back is free again.
        var spare = "CODE-" + Guid.NewGuid().ToString("N")[..8];
        Assert.True(await store.ReserveCodeAsync(spare, session));
        await store.ReleaseCodeAsync(spare);
        Assert.True(await store.ReserveCodeAsync(spare, "another-session"));
    }

    [Fact]
    public async Task Erasure_leaves_a_tombstone_that_ignores_redelivered_events_and_keeps_the_code_as_withdrawn()
    {
        var (storage, keys, store) = New();
        var (learner, other) = (NewId("l"), NewId("l"));
        var (s1, s2, s3) = (NewId("s"), NewId("s"), NewId("s"));
        foreach (var s in new[] { s1, s2 })
        {
            await store.IndexLearnerAsync(learner, s);
            await store.ApplySubmittedAsync(Submitted(s, learner));
            await store.TryWriteProjectionAsync(s, 0, Shown(ResultStatus.BeingChecked), null, T0);
        }
        var code = "CODE-" + Guid.NewGuid().ToString("N")[..8];
        await store.ReserveCodeAsync(code, s1);
        await store.TryWriteProjectionAsync(s1, 1, Shown(ResultStatus.Certified, new CertificateState(CertificateStatus.Valid, null, string.Empty)), Issued(code), T0);
        // Someone else's session listed under the learner (a stale index entry) is not theirs to erase.
        await store.IndexLearnerAsync(learner, s3);
        await store.ApplySubmittedAsync(Submitted(s3, other));

        Assert.Equal(2, (await store.GetLearnerSessionsAsync(learner)).Count);
        var submitted = Submitted(s1, learner);
        // The learner came back after the request (a redelivered request is consumed after their new result): kept.
        var later = NewId("s");
        await store.IndexLearnerAsync(learner, later);
        await store.ApplySubmittedAsync(Submitted(later, learner) with { SubmittedAt = T0.AddDays(3) });
        Assert.Equal(new ErasureOutcome(2, 1), await store.EraseLearnerAsync(learner, requestedAt: T0.AddDays(1), now: T0.AddDays(4)));
        Assert.Equal([later], (await storage.Database.SetMembersAsync(keys.Learner(learner))).Select(v => v.ToString()));
        Assert.NotNull(await store.GetAsync(later));
        Assert.Equal(new ErasureOutcome(1, 0), await store.EraseLearnerAsync(learner, requestedAt: T0.AddDays(3), now: T0.AddDays(4)));

        Assert.Null(await store.GetAsync(s1));
        Assert.Null(await store.FindByCodeAsync(code));
        Assert.Equal(new CodeLookup(null, T0.AddDays(4)), await store.LookupCodeAsync(code));
        Assert.Empty(await store.GetLearnerSessionsAsync(learner));
        Assert.NotNull(await store.GetAsync(s3));
        Assert.Equal((FactResult.Erased, (SessionRecord?)null), await store.ApplySubmittedAsync(submitted));
        Assert.Equal(FactResult.Erased, (await store.ApplyDecisionAsync(Decision(s1, learner, 1, DecisionOutcome.Valid))).Result);
        Assert.Equal(ProjectionWrite.Erased, await store.TryWriteProjectionAsync(s1, 0, Shown(ResultStatus.NotPassed), null, T0));
        Assert.Equal(new ErasureOutcome(0, 0), await store.EraseLearnerAsync(learner, T0.AddDays(5), T0.AddDays(5)));

        // Nothing under the erased sessions names the learner; the tombstone and its applied-event set live for the
        // redelivery horizon, the withdrawn code as long as the certificate would have.
        var hits = await KeyspaceScan.FindAsync(redis.Connection, storage.Keys.Prefix + "*", new Dictionary<string, string> { ["learner"] = learner });
        Assert.True(hits.Count == 0, KeyspaceScan.Describe(hits));
        var retention = new Vigil.Certificate.Retention.RetentionOptions();
        await AssertTtlAsync(storage, keys.Session(s1), retention.RedeliveryHorizon);
        await AssertTtlAsync(storage, keys.Events(s1), retention.RedeliveryHorizon);
        await AssertTtlAsync(storage, keys.Code(code), retention.Certificates);
    }

    [Fact]
    public async Task The_erased_learner_tombstone_keeps_the_latest_request_by_digest_for_the_redelivery_horizon()
    {
        var (storage, keys, store) = New();
        var learner = NewId("l");
        Assert.Null(await store.GetLearnerErasureAsync(learner));
        await store.MarkLearnerErasedAsync(learner, T0.AddHours(2), T0.AddHours(3));
        await store.MarkLearnerErasedAsync(learner, T0, T0.AddHours(4)); // an older request re-sent: its time does not move back
        Assert.Equal(new LearnerErasure(T0.AddHours(2), T0.AddHours(4)), await store.GetLearnerErasureAsync(learner));
        await AssertTtlAsync(storage, keys.ErasedLearner(ErasureDigest.Of(learner)), new Vigil.Certificate.Retention.RetentionOptions().RedeliveryHorizon);
        var hits = await KeyspaceScan.FindAsync(redis.Connection, storage.Keys.Prefix + "*", new Dictionary<string, string> { ["learner"] = learner });
        Assert.Empty(hits);
    }

    [Fact]
    public async Task Records_expire_with_the_configured_retention_set_in_the_same_step_as_each_write()
    {
        var storage = redis.NewStorage("certificate-retention");
        var keys = new CertificateKeys(storage.Keys);
        var retention = new Vigil.Certificate.Retention.RetentionOptions
        {
            Results = TimeSpan.FromDays(100), Certificates = TimeSpan.FromDays(1000), RedeliveryHorizon = TimeSpan.FromDays(7),
        };
        var store = new CertificateStore(storage, keys, Microsoft.Extensions.Options.Options.Create(retention));
        var (learner, failed, passed) = (NewId("l"), NewId("s"), NewId("s"));

        // A fact: the record gets the results' retention until the projection sets its own; its event set the horizon;
        // the learner's index the longest any record it lists may live.
        await store.IndexLearnerAsync(learner, failed);
        await store.ApplySubmittedAsync(Submitted(failed, learner, score: 10));
        await AssertTtlAsync(storage, keys.Learner(learner), retention.Certificates);
        await AssertTtlAsync(storage, keys.Session(failed), retention.Results);
        await AssertTtlAsync(storage, keys.Events(failed), retention.RedeliveryHorizon);
        await store.TryWriteProjectionAsync(failed, 0, Shown(ResultStatus.NotPassed), null, T0);
        await AssertTtlAsync(storage, keys.Session(failed), retention.Results);

        // A certificate: record and code for the certificates' retention, moved on when the record changes again.
        await store.ApplySubmittedAsync(Submitted(passed, learner));
        var code = "CODE-" + Guid.NewGuid().ToString("N")[..8];
        Assert.True(await store.ReserveCodeAsync(code, passed));
        await AssertTtlAsync(storage, keys.Code(code), retention.Certificates);
        await store.TryWriteProjectionAsync(passed, 0, Shown(ResultStatus.Certified, new CertificateState(CertificateStatus.Valid, null, string.Empty)), Issued(code), T0);
        await AssertTtlAsync(storage, keys.Session(passed), retention.Certificates);
        await storage.Database.KeyExpireAsync(keys.Code(code), TimeSpan.FromDays(1));
        await store.KeepCodeAsync(code);
        await AssertTtlAsync(storage, keys.Code(code), retention.Certificates);
    }

    /// <summary>The key's PTTL is the configured period (less the few milliseconds since it was set).</summary>
    private static async Task AssertTtlAsync(RedisStorage storage, StackExchange.Redis.RedisKey key, TimeSpan expected)
    {
        var ttl = await storage.Database.KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);
        Assert.InRange(ttl!.Value, expected - TimeSpan.FromMinutes(1), expected);
    }

    [Fact]
    public async Task The_dashboard_lists_the_learners_projected_sessions_and_a_watch_hears_every_change()
    {
        var (_, _, store) = New();
        var (learner, s1, s2) = (NewId("l"), NewId("s"), NewId("s"));
        foreach (var s in new[] { s1, s2 })
        {
            await store.IndexLearnerAsync(learner, s);
            await store.ApplySubmittedAsync(Submitted(s, learner));
        }
        await store.TryWriteProjectionAsync(s1, 0, Shown(ResultStatus.BeingChecked), null, T0);
        Assert.Equal([s1], (await store.GetLearnerSessionsAsync(learner)).Select(r => r.SessionId));

        var heard = Channel.CreateUnbounded<string>();
        await using (await store.WatchLearnerAsync(learner, id => heard.Writer.TryWrite(id)))
        {
            await store.PublishChangeAsync(NewId("l"), s2); // another learner's dashboard
            await store.PublishChangeAsync(learner, s1);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            Assert.Equal(s1, await heard.Reader.ReadAsync(timeout.Token));
        }
        await store.PublishChangeAsync(learner, s2);
        Assert.False(heard.Reader.TryRead(out _));
    }
}
