using Google.Protobuf;
using Grpc.Core;
using Vigil.Certificate.Tests.Infrastructure;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.Testing;
using static Vigil.Certificate.Tests.Infrastructure.Events;

namespace Vigil.Certificate.Tests.Dashboard;

/// <summary>EraseLearnerData: the entries and certificates go; their codes then verify as unknown.</summary>
[Collection(RunningServiceCollection.Name)]
public sealed class EraseLearnerDataTests(RunningService service)
{
    private CertificateHost Host => service.Host;

    [Fact]
    public async Task Erasure_removes_the_entries_and_the_certificates_then_verify_as_unknown()
    {
        var (learner, s1, s2) = (NewId("learner"), NewId("session"), NewId("session"));
        var submitted = Submitted(s1, learner);
        await Host.PublishAsync(submitted);
        await Host.PublishAsync(Decision(s1, learner, 1, DecisionOutcome.Valid));
        await Host.PublishAsync(Expired(s2, learner));
        var certified = await Host.WaitEntryAsync(learner, s1, e => e.Status == ResultStatus.Certified);
        await Host.WaitEntryAsync(learner, s2, e => e.Status == ResultStatus.NotSubmitted);
        var code = certified.Certificate.VerificationCode;

        var client = Host.Dashboard(TestTokens.Learner(learner));
        await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await client.EraseLearnerDataAsync(new EraseLearnerDataRequest()));
        await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await client.EraseLearnerDataAsync(new EraseLearnerDataRequest { RequestId = "white space" }));
        var erased = await client.EraseLearnerDataAsync(new EraseLearnerDataRequest { RequestId = "erase-1" });
        Assert.Equal(2, erased.EntriesErased);
        Assert.Equal(1, erased.CertificatesErased);
        // The same request again answers the same; a new request finds nothing left.
        Assert.Equal(erased, await client.EraseLearnerDataAsync(new EraseLearnerDataRequest { RequestId = "erase-1" }));
        Assert.Equal(new EraseLearnerDataResponse(), await Host.Dashboard(TestTokens.Ops()).EraseLearnerDataAsync(new EraseLearnerDataRequest { RequestId = "erase-2", LearnerId = learner }));

        Assert.Empty((await client.GetDashboardAsync(new GetDashboardRequest())).Entries);
        var verdict = await Host.Verification().VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = code });
        Assert.Equal(VerificationResult.Unknown, verdict.Result);
        Assert.Null(verdict.Certificate);

        // A redelivered event of the erased session does not bring the data back.
        await Host.PublishAsync(submitted);
        await Host.WaitConsumedAsync(submitted.EventId, 2);
        Assert.Empty((await client.GetDashboardAsync(new GetDashboardRequest())).Entries);
        var keys = await Host.Redis.HashGetAllAsync(Host.Keys.Session(s1));
        Assert.Equal(["erased"], keys.Select(k => k.Name.ToString()));
    }
}
