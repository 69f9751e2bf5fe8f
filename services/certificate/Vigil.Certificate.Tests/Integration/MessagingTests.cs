using System.Text;
using RabbitMQ.Client;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Messaging;
using static Vigil.Certificate.Tests.Integration.Events;

namespace Vigil.Certificate.Tests.Integration;

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
        }, () => $"both bad messages in {errorQueue}; found: {string.Join(", ", found)}");

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
        foreach (var (queue, _, _) in EventTopology.ConsumerQueues)
        {
            var ok = await channel.QueueDeclarePassiveAsync(queue);
            Assert.True(ok.ConsumerCount >= 1, $"{queue} has no consumer");
        }
    }
}

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

/// <summary>The service as a real process: killed (SIGKILL), events published meanwhile, restarted.</summary>
[Collection(NotYetRunningCollection.Name)]
public sealed class ServiceProcessTests : IAsyncLifetime
{
    private readonly CertificateHost _publisher = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _publisher.DisposeAsync();

    [Fact]
    public async Task Events_published_while_the_process_is_killed_are_applied_after_its_restart()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = Vigil.Testing.TestEnvironment.Redis,
            ["RabbitMq:Uri"] = CertificateHost.AmqpUri,
        };
        var (learner, session) = (NewId("learner"), NewId("session"));
        await using (var first = await Vigil.Testing.ServiceProcess.StartAsync("services/certificate/Vigil.Certificate", settings))
        {
            await first.WaitReadyAsync(TimeSpan.FromSeconds(30));
            await _publisher.PublishAsync(Submitted(session, learner));
            await WaitStatusAsync(first, learner, session, ResultStatus.BeingChecked);
            await first.KillAsync();
        }

        await _publisher.PublishAsync(Decision(session, learner, 1, DecisionOutcome.Valid));
        await _publisher.PublishAsync(Decision(session, learner, 2, DecisionOutcome.Refused, "REFUSAL_REASON_DOCUMENTS", "A book was used."));

        await using var second = await Vigil.Testing.ServiceProcess.StartAsync("services/certificate/Vigil.Certificate", settings);
        var entry = await WaitStatusAsync(second, learner, session, ResultStatus.Refused);
        Assert.Contains("A book was used.", entry.Reason, StringComparison.Ordinal);
    }

    private static async Task<DashboardEntry> WaitStatusAsync(Vigil.Testing.ServiceProcess process, string learner, string session, ResultStatus status)
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(process.GrpcAddress);
        var client = new DashboardService.DashboardServiceClient(channel);
        var headers = new Grpc.Core.Metadata { { "authorization", "Bearer " + Vigil.Testing.TestTokens.Learner(learner) } };
        DashboardEntry? last = null;
        await Eventually.Async(async () =>
        {
            var dashboard = await client.GetDashboardAsync(new GetDashboardRequest(), headers);
            last = dashboard.Entries.FirstOrDefault(e => e.SessionId == session);
            return last?.Status == status;
        }, () => $"{status} for {session}; last seen {last}");
        return last!;
    }
}

[CollectionDefinition(Name)]
public sealed class NotYetRunningCollection
{
    public const string Name = "certificate service not yet running";
}
