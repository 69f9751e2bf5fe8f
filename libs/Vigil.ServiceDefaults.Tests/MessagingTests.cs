using System.Text;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Messaging;
using Vigil.Testing;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>MassTransit over the real RabbitMQ: publish and consume, and the pre-declared topology.</summary>
public sealed class MessagingTests
{
    public sealed record PingRecorded(Guid Id, string Text);

    internal sealed class PingRecordedConsumer : IConsumer<PingRecorded>
    {
        public static readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, TaskCompletionSource<PingRecorded>> Waiting = new();

        public Task Consume(ConsumeContext<PingRecorded> context)
        {
            if (Waiting.TryGetValue(context.Message.Id, out var tcs)) tcs.TrySetResult(context.Message);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_published_event_is_consumed_from_its_own_queue()
    {
        await using var app = await TestHost.StartAsync(consumers: x => x.AddConsumer<PingRecordedConsumer>());
        var bus = app.Services.GetRequiredService<IBusControl>();
        await bus.WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
        var message = new PingRecorded(Guid.NewGuid(), "hello");
        var tcs = PingRecordedConsumer.Waiting.GetOrAdd(message.Id, _ => new TaskCompletionSource<PingRecorded>());
        await bus.Publish(message);
        var received = await tcs.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(message, received);
    }

    [Fact]
    public async Task An_event_published_before_its_consumer_ever_ran_waits_in_its_queue()
    {
        var uri = TestEnvironment.RabbitMq("defaults");
        await EventTopologyDeclarer.DeclareAsync(uri, CancellationToken.None);
        var factory = new ConnectionFactory { Uri = new Uri(uri) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueuePurgeAsync(EventTopology.CertificateSessionExpiredQueue);

        // Publish to the event exchange, as the session service's relay does, with no consumer running.
        var body = Encoding.UTF8.GetBytes("{\"probe\":true}");
        await channel.BasicPublishAsync(EventTopology.SessionExpiredExchange, string.Empty, body);

        var got = await Eventually.ObjectAsync(() => channel.BasicGetAsync(EventTopology.CertificateSessionExpiredQueue, autoAck: true), () => "the event in its queue");
        Assert.Equal(body, got.Body.ToArray());
    }

    [Fact]
    public async Task Declaring_the_topology_twice_is_harmless()
    {
        var uri = TestEnvironment.RabbitMq("defaults");
        await EventTopologyDeclarer.DeclareAsync(uri, CancellationToken.None);
        await EventTopologyDeclarer.DeclareAsync(uri, CancellationToken.None);
    }
}
