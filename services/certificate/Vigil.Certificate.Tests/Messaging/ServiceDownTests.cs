using Vigil.Certificate.Tests.Infrastructure;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Messaging;
using static Vigil.Certificate.Tests.Infrastructure.Events;

namespace Vigil.Certificate.Tests.Messaging;

/// <summary>Events published while the certificate service is down (or has never run) are applied once it runs.</summary>
[Collection(NotYetRunningCollection.Name)]
public sealed class ServiceDownTests : IAsyncLifetime
{
    private readonly CertificateHost _host = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Events_published_before_the_service_ever_ran_are_applied_once_it_starts()
    {
        // What a publisher does at its start: declare the consumers' queues and bindings.
        await EventTopologyDeclarer.DeclareAsync(CertificateHost.AmqpUri, CancellationToken.None);

        var (learner, certified, expired, withdrawn) = (NewId("learner"), NewId("session"), NewId("session"), NewId("session"));
        await _host.PublishAsync(Submitted(certified, learner));
        await _host.PublishAsync(Decision(certified, learner, 1, DecisionOutcome.Valid));
        await _host.PublishAsync(Expired(expired, learner));
        await _host.PublishAsync(Decision(withdrawn, learner, 2, DecisionOutcome.Withdrawn, "REFUSAL_REASON_CALCULATOR", "A calculator was used."));
        await _host.PublishAsync(Decision(withdrawn, learner, 1, DecisionOutcome.Valid));
        await _host.PublishAsync(Submitted(withdrawn, learner));

        // The messages wait in the durable queues.
        await using (var connection = await CertificateHost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            Assert.True((await channel.QueueDeclarePassiveAsync(EventTopology.CertificateSessionSubmittedQueue)).MessageCount >= 2);
            Assert.True((await channel.QueueDeclarePassiveAsync(EventTopology.CertificateBoardDecisionRecordedQueue)).MessageCount >= 3);
            Assert.True((await channel.QueueDeclarePassiveAsync(EventTopology.CertificateSessionExpiredQueue)).MessageCount >= 1);
        }

        await _host.StartAsync();
        var entry = await _host.WaitEntryAsync(learner, certified, e => e.Status == ResultStatus.Certified);
        Assert.NotNull(entry.Certificate);
        await _host.WaitEntryAsync(learner, expired, e => e.Status == ResultStatus.NotSubmitted);
        await _host.WaitEntryAsync(learner, withdrawn, e => e.Status == ResultStatus.Withdrawn);
    }
}
