using Google.Protobuf;
using Grpc.Core;
using Vigil.Certificate.Tests.Infrastructure;
using Vigil.Contracts.Certificate.V1;
using Vigil.Testing;
using static Vigil.Certificate.Tests.Infrastructure.Events;

namespace Vigil.Certificate.Tests.Dashboard;

/// <summary>GetDashboard, WatchDashboard and EraseLearnerData: a learner reaches only their own dashboard.</summary>
[Collection(RunningServiceCollection.Name)]
public sealed class DashboardAccessTests(RunningService service)
{
    private CertificateHost Host => service.Host;

    [Fact]
    public async Task A_learner_sees_only_their_own_dashboard()
    {
        var (learner, other, session) = (NewId("learner"), NewId("learner"), NewId("session"));
        await Host.PublishAsync(Submitted(session, learner));
        await Host.WaitEntryAsync(learner, session, _ => true);

        var asOther = Host.Dashboard(TestTokens.Learner(other));
        Assert.Empty((await asOther.GetDashboardAsync(new GetDashboardRequest())).Entries);
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await asOther.GetDashboardAsync(new GetDashboardRequest { LearnerId = learner }));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () =>
        {
            using var call = asOther.WatchDashboard(new WatchDashboardRequest { LearnerId = learner });
            await call.ResponseStream.MoveNext();
        });
#pragma warning disable CS0612 // retired, but it still refuses a caller who may not name the learner first
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await asOther.EraseLearnerDataAsync(new EraseLearnerDataRequest { LearnerId = learner, RequestId = "r" }));
#pragma warning restore CS0612
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () =>
            await Host.Dashboard(TestTokens.Board("member", "course-1")).GetDashboardAsync(new GetDashboardRequest { LearnerId = learner }));
        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, async () =>
            await new DashboardService.DashboardServiceClient(Host.Factory.Channel(null)).GetDashboardAsync(new GetDashboardRequest()));

        // A service or ops may name the learner to read; only the learner or ops may erase.
        var asService = await Host.Dashboard(TestTokens.Service()).GetDashboardAsync(new GetDashboardRequest { LearnerId = learner });
        Assert.Single(asService.Entries);
        Assert.Equal(learner, asService.LearnerId);
        Assert.Single((await Host.Dashboard(TestTokens.Ops()).GetDashboardAsync(new GetDashboardRequest { LearnerId = learner })).Entries);
#pragma warning disable CS0612
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () =>
            await Host.Dashboard(TestTokens.Service()).EraseLearnerDataAsync(new EraseLearnerDataRequest { LearnerId = learner, RequestId = "r" }));
#pragma warning restore CS0612
        Assert.Single((await Host.Dashboard(TestTokens.Learner(learner)).GetDashboardAsync(new GetDashboardRequest())).Entries);
    }
}
