using System.Text;
using RabbitMQ.Client;
using Vigil.Certificate.Tests.Infrastructure;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Messaging;
using Vigil.Testing;
using static Vigil.Certificate.Tests.Infrastructure.Events;

namespace Vigil.Certificate.Tests.Messaging;

/// <summary>The consumers' queues: a malformed message goes to the error queue; the predeclared topology is MassTransit's.</summary>
[Collection(RunningServiceCollection.Name)]
public sealed class MalformedMessageTests(RunningService service)
{
    private CertificateHost Host => service.Host;

    [Fact]
    public async Task A_malformed_message_ends_in_the_error_queue_without_blocking_the_queue()
    {
        var marker = Guid.NewGuid().ToString("N");
        await using (var connection = await CertificateHost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            var props = new BasicProperties { ContentType = "application/vnd.masstransit+json", MessageId = Guid.NewGuid().ToString(), Persistent = true };
            await channel.BasicPublishAsync(EventTopology.BoardDecisionRecordedExchange, string.Empty, mandatory: false, props,
                Encoding.UTF8.GetBytes("{ this is not json " + marker));
        }
        // Well-formed JSON, but an impossible event (version 0): it too ends in the error queue after the retries.
        var impossible = Decision(NewId("session"), NewId("learner"), 0, DecisionOutcome.Valid) with { ReasonText = marker };
        await Host.PublishAsync(impossible);

        // The queue is not blocked: a good message behind them is applied.
        var (learner, session) = (NewId("learner"), NewId("session"));
        await Host.PublishAsync(Submitted(session, learner));
        await Host.PublishAsync(Decision(session, learner, 1, DecisionOutcome.Valid));
        await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.Certified);

        var errorQueue = EventTopology.CertificateBoardDecisionRecordedQueue + "_error";
        var found = new HashSet<string>();
        await Eventually.Async(async () =>
        {
            await using var connection = await CertificateHost.ConnectAsync();
            await using var channel = await connection.CreateChannelAsync();
            while (await channel.BasicGetAsync(errorQueue, autoAck: true) is { } message)
            {
                var body = Encoding.UTF8.GetString(message.Body.Span);
                if (body.Contains("{ this is not json " + marker, StringComparison.Ordinal)) found.Add("garbage");
                if (body.Contains(marker, StringComparison.Ordinal) && body.Contains(impossible.EventId.ToString(), StringComparison.Ordinal)) found.Add("impossible");
            }
            return found.Count == 2;
        }, () => $"both bad messages in {errorQueue}; found: {string.Join(", ", found)}",
            retryOn: ex => ex is RabbitMQ.Client.Exceptions.OperationInterruptedException); // the error queue does not exist yet

        // Nothing is left waiting in the queue itself.
        await Eventually.Async(async () =>
        {
            await using var connection = await CertificateHost.ConnectAsync();
            await using var channel = await connection.CreateChannelAsync();
            return (await channel.QueueDeclarePassiveAsync(EventTopology.CertificateBoardDecisionRecordedQueue)).MessageCount == 0;
        }, "the queue to be empty");
    }

    [Fact]
    public async Task The_predeclared_topology_is_what_MassTransit_declares()
    {
        // Declaring again while MassTransit's consumers are bound must not fail (no PRECONDITION_FAILED).
        await EventTopologyDeclarer.DeclareAsync(CertificateHost.AmqpUri, CancellationToken.None);
        await using var connection = await CertificateHost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        // The certificate service's own queues (the others are the identity and session services').
        foreach (var (queue, _, _) in EventTopology.ConsumerQueues.Where(q => q.Queue.StartsWith("certificate-", StringComparison.Ordinal)))
        {
            var ok = await channel.QueueDeclarePassiveAsync(queue);
            Assert.True(ok.ConsumerCount >= 1, $"{queue} has no consumer");
        }
    }
}
