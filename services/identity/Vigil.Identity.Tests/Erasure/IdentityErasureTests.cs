using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Vigil.Contracts.Events;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Storage;
using Vigil.Identity.Tests.Infrastructure;
using Vigil.ServiceDefaults.Storage;
using Vigil.Testing;
using Vigil.Testing.Images;
using static Vigil.Identity.Tests.Infrastructure.IdentityFixture;

namespace Vigil.Identity.Tests.Erasure;

/// <summary>
/// The identity service's part of an erasure request (IdentityErasureConsumer) over the real broker: record,
/// verifications, photos and mailbox gone, completion reported; the photos' appeal window (PhotoRetentionConsumer);
/// the retired EraseLearnerData.
/// </summary>
[Collection(IdentityCollection.Name)]
public sealed class IdentityErasureTests(IdentityFixture fx)
{
    [Fact]
    public async Task An_erasure_request_removes_the_record_verifications_photos_and_mailbox_and_reports_completion()
    {
        var learnerId = NewId("l");
        var client = fx.Learner(learnerId);
        var email = Mailbox("erase");
        await client.RegisterLearnerAsync(Register(email));
        var (exam1, exam2) = (NewId("exam"), NewId("exam"));
        await TestVerification.CompleteAsync(client, exam1);
        await TestVerification.CompleteAsync(client, exam2, seed: 4);
        Assert.Contains(await fx.KeysOf(learnerId), k => k.Contains(":photo:ph_", StringComparison.Ordinal));
        var canonical = (await client.GetLearnerAsync(new GetLearnerRequest())).Learner.CanonicalEmail;

        await using var probe = await EventProbe.StartAsync(AmqpUri, "identity-erasure-probe");
        await using var publisher = await EventPublisher.StartAsync(AmqpUri);
        var request = new LearnerErasureRequested { EventId = Guid.NewGuid(), RequestId = NewId("req"), LearnerId = learnerId, RequestedAt = DateTimeOffset.UtcNow };
        await publisher.PublishAsync(request);
        await Eventually.True(() => Reports(probe, request.RequestId).Count > 0, "the identity service's report");
        var report = Reports(probe, request.RequestId)[0];
        // 4 photos, 2 verification records, the learner record.
        Assert.Equal((ErasureServices.Identity, 7), (report.GetProperty("service").GetString(), report.GetProperty("recordsErased").GetInt32()));

        // Nothing of the learner is left: no key under their hash tag, no key or value anywhere with their id or mailbox.
        Assert.Empty(await fx.KeysOf(learnerId));
        var prefix = fx.Factory.Services.GetRequiredService<RedisKeyspace>().Prefix;
        var hits = await KeyspaceScan.FindAsync(fx.Redis, prefix + "*", new Dictionary<string, string> { ["id"] = learnerId, ["email"] = email, ["canonical email"] = canonical });
        Assert.True(hits.Count == 0, KeyspaceScan.Describe(hits));
        await RpcAssert.ThrowsAsync(StatusCode.NotFound, () => client.GetLearnerAsync(new GetLearnerRequest()).ResponseAsync);
        await RpcAssert.ThrowsAsync(StatusCode.NotFound, () => fx.Client(TestTokens.Service("session")).GetPhotoAsync(
            new GetPhotoRequest { LearnerId = learnerId, ExamId = exam1, Kind = PhotoKind.IdDocument }).ResponseAsync);
        Assert.False((await client.GetVerificationStatusAsync(new GetVerificationStatusRequest { ExamId = exam1 })).Status.MayStartExam);
        // The mailbox is free again.
        await fx.Learner(NewId("l")).RegisterLearnerAsync(Register(email));

        // The same request again (a re-send) erases nothing more and reports again.
        await publisher.PublishAsync(request with { EventId = Guid.NewGuid() });
        await Eventually.True(() => Reports(probe, request.RequestId).Count == 2, "the second report");
        Assert.Equal(0, Reports(probe, request.RequestId)[1].GetProperty("recordsErased").GetInt32());
    }

    [Fact]
    public async Task A_board_decision_moves_the_photos_expiry_to_the_decision_plus_the_appeal_window_never_back()
    {
        var learnerId = NewId("l");
        var client = fx.Learner(learnerId);
        await client.RegisterLearnerAsync(Register(Mailbox("appeal")));
        var exam = NewId("exam");
        await TestVerification.CompleteAsync(client, exam);
        // The two photos, found by a keyspace scan. On a Redis Cluster being resharded (the cluster pass), a scan that
        // visits one node before a slot moves to it and the other after can miss a key: scanned again until both show.
        var photos = new List<string>();
        await Eventually.Async(async () =>
        {
            photos = [.. (await fx.KeysOf(learnerId)).Where(k => k.Contains(":photo:ph_", StringComparison.Ordinal))];
            return photos.Count == 2;
        }, () => $"both photos of the learner in the keyspace (found {photos.Count})");
        // Written with Photos:Retention (7 days in this suite).
        Assert.All(await TtlsAsync(photos), t => Assert.InRange(t!.Value, TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(7)));

        await using var publisher = await EventPublisher.StartAsync(AmqpUri);
        var decidedAt = DateTimeOffset.UtcNow.AddDays(3);
        var until = decidedAt + TimeSpan.FromDays(60); // the default Photos:AppealWindow
        await publisher.PublishAsync(Decision(learnerId, exam, decidedAt));
        await Eventually.Async(async () => (await TtlsAsync(photos)).All(t => t is { } v && Near(v, until)),
            "the photos to expire at the decision plus the appeal window");

        // An older decision (redelivered out of order) never moves it back; a later one moves it on.
        var store = fx.Factory.Services.GetRequiredService<IdentityStore>();
        Assert.Equal(0, await store.ExpireAfterDecisionAsync(learnerId, exam, until.AddDays(-2)));
        Assert.All(await TtlsAsync(photos), t => Assert.True(Near(t!.Value, until)));
        Assert.Equal(2, await store.ExpireAfterDecisionAsync(learnerId, exam, until.AddDays(5)));
        Assert.All(await TtlsAsync(photos), t => Assert.True(Near(t!.Value, until.AddDays(5))));
    }

    [Fact]
    public async Task The_retired_EraseLearnerData_checks_the_caller_then_names_the_erasure_request_and_erases_nothing()
    {
        var learnerId = NewId("l");
        var client = fx.Learner(learnerId);
        await client.RegisterLearnerAsync(Register(Mailbox("retired")));
        var before = await fx.KeysOf(learnerId);
#pragma warning disable CS0612 // the retired RPC is what is tested
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, () => fx.Learner("intruder").EraseLearnerDataAsync(
            new EraseLearnerDataRequest { RequestId = "e1", LearnerId = learnerId }).ResponseAsync);
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, () => fx.Client(TestTokens.Service("session")).EraseLearnerDataAsync(
            new EraseLearnerDataRequest { RequestId = "e1", LearnerId = learnerId }).ResponseAsync);
        foreach (var token in new[] { TestTokens.Learner(learnerId), TestTokens.Ops() })
        {
            var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, () => fx.Client(token).EraseLearnerDataAsync(
                new EraseLearnerDataRequest { RequestId = "e2", LearnerId = learnerId }).ResponseAsync);
            var violation = Assert.Single(RpcAssert.PreconditionViolations(ex));
            Assert.Equal(("ERASURE_BY_REQUEST", "vigil.session.v1.ErasureService/StartErasure"), (violation.Type, violation.Subject));
        }
#pragma warning restore CS0612
        Assert.Equal(before.Order(), (await fx.KeysOf(learnerId)).Order());
    }

    private static BoardDecisionRecorded Decision(string learnerId, string examId, DateTimeOffset decidedAt) => new()
    {
        EventId = Guid.NewGuid(), SessionId = NewId("s"), ExamId = examId, CourseId = "course-1", LearnerId = learnerId, Version = 1,
        Outcome = DecisionOutcome.Valid, ReasonCode = string.Empty, ReasonText = string.Empty, DecidedBy = "board-1", DecidedAt = decidedAt,
    };

    private async Task<List<TimeSpan?>> TtlsAsync(IEnumerable<string> keys) =>
        [.. await Task.WhenAll(keys.Select(k => fx.Redis.GetDatabase().KeyTimeToLiveAsync(k)))];

    private static bool Near(TimeSpan ttl, DateTimeOffset until) => (DateTimeOffset.UtcNow + ttl - until).Duration() < TimeSpan.FromMinutes(1);

    private static List<JsonElement> Reports(EventProbe probe, string requestId) =>
        [.. probe.All.Where(e => e.Type == nameof(LearnerErasureCompleted) && e.Message.GetProperty("requestId").GetString() == requestId).Select(e => e.Message)];
}
