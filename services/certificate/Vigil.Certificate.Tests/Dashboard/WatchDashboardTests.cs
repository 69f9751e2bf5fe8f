using Google.Protobuf;
using Grpc.Core;
using Vigil.Certificate.Tests.Infrastructure;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.Testing;
using static Vigil.Certificate.Tests.Infrastructure.Events;

namespace Vigil.Certificate.Tests.Dashboard;

/// <summary>WatchDashboard: a snapshot, then every change pushed as it happens.</summary>
[Collection(RunningServiceCollection.Name)]
public sealed class WatchDashboardTests(RunningService service)
{
    private CertificateHost Host => service.Host;

    [Fact]
    public async Task The_stream_sends_a_snapshot_then_pushes_changes_as_they_happen()
    {
        var (learner, s1, s2) = (NewId("learner"), NewId("session"), NewId("session"));
        await Host.PublishAsync(Submitted(s1, learner));
        await Host.WaitEntryAsync(learner, s1, e => e.Status == ResultStatus.BeingChecked);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = Host.Dashboard(TestTokens.Learner(learner)).WatchDashboard(new WatchDashboardRequest(), cancellationToken: cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        Assert.True(call.ResponseStream.Current.Snapshot);
        Assert.Equal(s1, call.ResponseStream.Current.Entry.SessionId);

        await Host.PublishAsync(Decision(s1, learner, 1, DecisionOutcome.Valid));
        await Host.PublishAsync(Submitted(s2, learner, idPhoto: false));
        var seen = new Dictionary<string, WatchDashboardResponse>();
        while (!(seen.TryGetValue(s1, out var a) && a.Entry.Status == ResultStatus.Certified
                 && seen.TryGetValue(s2, out var b) && b.Entry.Status == ResultStatus.InvalidNoIdPhoto))
        {
            Assert.True(await call.ResponseStream.MoveNext(cts.Token));
            var update = call.ResponseStream.Current;
            Assert.False(update.Snapshot);
            seen[update.Entry.SessionId] = update;
        }
        Assert.NotNull(seen[s1].Entry.Certificate);
    }
}
