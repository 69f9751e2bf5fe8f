using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Vigil.Certificate.Tests.Infrastructure;
using Vigil.Certificate.Verification;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Storage;
using Vigil.Testing;
using static Vigil.Certificate.Tests.Infrastructure.Events;

namespace Vigil.Certificate.Tests.Erasure;

/// <summary>
/// The certificate service's part of an erasure request (CertificateErasureConsumer), over the real broker: the entries
/// go, the dashboard says when, a certificate's code verifies as withdrawn for erasure, facts from before the request
/// bring nothing back, a fact after it is a new result; the retired EraseLearnerData says where erasure is done now.
/// </summary>
[Collection(RunningServiceCollection.Name)]
public sealed class CertificateErasureTests(RunningService service)
{
    private CertificateHost Host => service.Host;

    private static LearnerErasureRequested Request(string learnerId, DateTimeOffset requestedAt) =>
        new() { EventId = Guid.NewGuid(), RequestId = NewId("erase"), LearnerId = learnerId, RequestedAt = requestedAt };

    [Fact]
    public async Task An_erasure_request_removes_the_entries_withdraws_the_certificates_and_old_facts_bring_nothing_back()
    {
        var (learner, s1, s2) = (NewId("learner"), NewId("session"), NewId("session"));
        var submitted = Submitted(s1, learner) with { LearnerName = "Name of " + learner };
        var decision = Decision(s1, learner, 1, DecisionOutcome.Valid);
        await Host.PublishAsync(submitted);
        await Host.PublishAsync(decision);
        await Host.PublishAsync(Expired(s2, learner));
        var certified = await Host.WaitEntryAsync(learner, s1, e => e.Status == ResultStatus.Certified);
        await Host.WaitEntryAsync(learner, s2, e => e.Status == ResultStatus.NotSubmitted);
        var code = certified.Certificate.VerificationCode;

        var request = Request(learner, DateTimeOffset.UtcNow);
        await Host.PublishAsync(request);
        await Host.WaitConsumedAsync(request.EventId);

        var dashboard = await Host.Dashboard(TestTokens.Learner(learner)).GetDashboardAsync(new GetDashboardRequest());
        Assert.Empty(dashboard.Entries);
        Assert.NotNull(dashboard.DataErasedAt);
        var verdict = await Host.Verification().VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = code });
        Assert.Equal(VerificationResult.Withdrawn, verdict.Result);
        Assert.Equal(VerificationGrpcService.ErasedWithdrawalReason, verdict.WithdrawalReason);
        Assert.Null(verdict.Certificate);
        // The session's record is a tombstone: nothing of the learner, the name or the exam's result is left.
        Assert.Equal(["erased"], (await Host.Redis.HashGetAllAsync(Host.Keys.Session(s1))).Select(k => k.Name.ToString()));
        var hits = await KeyspaceScan.FindAsync(Host.Redis.Multiplexer, Host.Factory.Services.GetRequiredService<RedisKeyspace>().Prefix + "*",
            new Dictionary<string, string> { ["learner id"] = learner, ["learner name"] = submitted.LearnerName });
        Assert.True(hits.Count == 0, KeyspaceScan.Describe(hits));

        // Replayed facts from before the request (a redelivery, a re-published event) bring nothing back.
        await Host.PublishAsync(submitted);
        await Host.PublishAsync(decision);
        await Host.WaitConsumedAsync(submitted.EventId, 2);
        await Host.WaitConsumedAsync(decision.EventId, 2);
        Assert.Empty((await Host.Dashboard(TestTokens.Learner(learner)).GetDashboardAsync(new GetDashboardRequest())).Entries);
        Assert.Equal(VerificationResult.Withdrawn, (await Host.Verification().VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = code })).Result);

        // The same request again (a re-send) is a no-op; a new exam after the erasure is a new result.
        await Host.PublishAsync(request with { EventId = Guid.NewGuid() });
        var s3 = NewId("session");
        await Host.PublishAsync(Submitted(s3, learner) with { SubmittedAt = DateTimeOffset.UtcNow.AddSeconds(1) });
        var fresh = await Host.WaitEntryAsync(learner, s3, _ => true);
        Assert.Equal(s3, fresh.SessionId);
    }

    [Fact]
    public async Task A_fact_older_than_its_learners_erasure_that_arrives_late_leaves_only_a_tombstone()
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        var before = DateTimeOffset.UtcNow;
        var request = Request(learner, before.AddSeconds(5));
        await Host.PublishAsync(request);
        await Host.WaitConsumedAsync(request.EventId);

        // Submitted before the request was recorded, delivered after the erasure ran (a slow relay, a replay).
        var late = Submitted(session, learner) with { SubmittedAt = before };
        await Host.PublishAsync(late);
        await Host.WaitConsumedAsync(late.EventId);
        Assert.Empty((await Host.Dashboard(TestTokens.Learner(learner)).GetDashboardAsync(new GetDashboardRequest())).Entries);
        Assert.Equal(["erased"], (await Host.Redis.HashGetAllAsync(Host.Keys.Session(session))).Select(k => k.Name.ToString()));
    }

    [Fact]
    public async Task The_retired_EraseLearnerData_checks_the_caller_then_names_the_erasure_request()
    {
        var learner = NewId("learner");
        var session = NewId("session");
        await Host.PublishAsync(Submitted(session, learner));
        await Host.WaitEntryAsync(learner, session, _ => true);
#pragma warning disable CS0612 // the retired RPC is what is tested
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () =>
            await Host.Dashboard(TestTokens.Learner(NewId("other"))).EraseLearnerDataAsync(new EraseLearnerDataRequest { RequestId = "r1", LearnerId = learner }));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () =>
            await Host.Dashboard(TestTokens.Service()).EraseLearnerDataAsync(new EraseLearnerDataRequest { RequestId = "r1", LearnerId = learner }));
        foreach (var token in new[] { TestTokens.Learner(learner), TestTokens.Ops() })
        {
            var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () =>
                await Host.Dashboard(token).EraseLearnerDataAsync(new EraseLearnerDataRequest { RequestId = "r2", LearnerId = learner }));
            var violation = Assert.Single(RpcAssert.PreconditionViolations(ex));
            Assert.Equal(("ERASURE_BY_REQUEST", "vigil.session.v1.ErasureService/StartErasure"), (violation.Type, violation.Subject));
        }
#pragma warning restore CS0612
        Assert.Single((await Host.Dashboard(TestTokens.Learner(learner)).GetDashboardAsync(new GetDashboardRequest())).Entries);
    }
}
