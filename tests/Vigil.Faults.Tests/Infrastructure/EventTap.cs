using System.Collections.Concurrent;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Vigil.Contracts.Events;
using Vigil.Testing;

namespace Vigil.Faults.Tests.Infrastructure;

/// <summary>One event as published to the broker: its type, session, event id and the raw MassTransit envelope.</summary>
public sealed record TappedEvent(string Type, string SessionId, string EventId, byte[] Body, string? ContentType);

/// <summary>
/// A real RabbitMQ consumer straight on the broker (never through the cut relay): its own exclusive queue bound to
/// every event exchange of the "faults" virtual host, so a test counts what the outbox relay really published, and
/// can publish an event's exact bytes again to a consumer queue (a redelivery).
/// </summary>
public sealed class EventTap : IAsyncDisposable
{
    private readonly ConcurrentQueue<TappedEvent> _events = new();
    private IConnection _connection = null!;
    private IChannel _channel = null!;

    public static async Task<EventTap> StartAsync()
    {
        var tap = new EventTap();
        var factory = new ConnectionFactory { Uri = new Uri(TestEnvironment.RabbitMq("faults")), ClientProvidedName = "faults-tap" };
        tap._connection = await factory.CreateConnectionAsync();
        tap._channel = await tap._connection.CreateChannelAsync();
        var queue = await tap._channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true);
        foreach (var (_, exchange, _) in EventTopology.ConsumerQueues)
        {
            await tap._channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
            await tap._channel.QueueBindAsync(queue.QueueName, exchange, string.Empty);
        }
        var consumer = new AsyncEventingBasicConsumer(tap._channel);
        consumer.ReceivedAsync += (_, ea) =>
        {
            var body = ea.Body.ToArray();
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var urn = root.GetProperty("messageType")[0].GetString() ?? string.Empty;
            var message = root.GetProperty("message");
            tap._events.Enqueue(new TappedEvent(
                urn[(urn.LastIndexOf(':') + 1)..],
                message.GetProperty("sessionId").GetString() ?? string.Empty,
                message.GetProperty("eventId").GetString() ?? string.Empty,
                body,
                ea.BasicProperties.ContentType));
            return Task.CompletedTask;
        };
        await tap._channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return tap;
    }

    /// <summary>Every event seen so far.</summary>
    public IReadOnlyList<TappedEvent> All => [.. _events];

    /// <summary>The events of one type for some sessions.</summary>
    public List<TappedEvent> Of(string type, IEnumerable<string> sessionIds)
    {
        var set = sessionIds.ToHashSet();
        return [.. _events.Where(e => e.Type == type && set.Contains(e.SessionId))];
    }

    /// <summary>Waits until at least <paramref name="count"/> events of the type for the sessions arrived (or the timeout).</summary>
    public async Task<List<TappedEvent>> WaitAsync(string type, IEnumerable<string> sessionIds, int count, TimeSpan timeout)
    {
        var ids = sessionIds.ToList();
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = Of(type, ids);
            if (found.Count >= count || DateTime.UtcNow > until) return found;
            await Task.Delay(100);
        }
    }

    /// <summary>Publishes an event's exact bytes straight to a consumer queue: the consumer sees the same message again.</summary>
    public async Task RedeliverAsync(TappedEvent e, string queue)
    {
        var props = new BasicProperties { ContentType = e.ContentType ?? "application/vnd.masstransit+json", Persistent = true };
        await _channel.BasicPublishAsync(string.Empty, queue, mandatory: false, props, e.Body);
    }

    /// <summary>
    /// A copy of <paramref name="template"/> as a different fact: new message and event ids, another session and
    /// learner (everything else, the envelope included, as the real publisher wrote it).
    /// </summary>
    public static TappedEvent Variant(TappedEvent template, string sessionId, string learnerId)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(template.Body)!.AsObject();
        var eventId = Guid.NewGuid().ToString();
        root["messageId"] = Guid.NewGuid().ToString();
        var message = root["message"]!.AsObject();
        message["eventId"] = eventId;
        message["sessionId"] = sessionId;
        message["learnerId"] = learnerId;
        return template with { SessionId = sessionId, EventId = eventId, Body = System.Text.Encoding.UTF8.GetBytes(root.ToJsonString()) };
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
