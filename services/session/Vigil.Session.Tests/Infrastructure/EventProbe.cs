using System.Collections.Concurrent;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Vigil.Contracts.Events;

namespace Vigil.Session.Tests.Infrastructure;

/// <summary>One event as it reached the broker: its type (from the MassTransit envelope) and its body.</summary>
public sealed record ReceivedEvent(string Type, JsonElement Message)
{
    public string SessionId => Message.GetProperty("sessionId").GetString()!;
}

/// <summary>
/// A real RabbitMQ consumer: its own exclusive queue bound to every event exchange of the session vhost, so the
/// tests see what the outbox relay actually published.
/// </summary>
public sealed class EventProbe : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedEvent> _events = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private IConnection? _connection;
    private IChannel? _channel;

    public IReadOnlyCollection<ReceivedEvent> All => _events.ToArray();

    public static async Task<EventProbe> StartAsync(string amqpUri)
    {
        var probe = new EventProbe();
        var factory = new ConnectionFactory { Uri = new Uri(amqpUri), ClientProvidedName = "session-tests-probe" };
        probe._connection = await factory.CreateConnectionAsync();
        probe._channel = await probe._connection.CreateChannelAsync();
        var queue = await probe._channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true);
        foreach (var exchange in new[] { EventTopology.SessionSubmittedExchange, EventTopology.SessionExpiredExchange, EventTopology.BoardDecisionRecordedExchange })
        {
            await probe._channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
            await probe._channel.QueueBindAsync(queue.QueueName, exchange, string.Empty);
        }
        var consumer = new AsyncEventingBasicConsumer(probe._channel);
        consumer.ReceivedAsync += (_, ea) =>
        {
            using var doc = JsonDocument.Parse(ea.Body);
            var root = doc.RootElement;
            var urn = root.GetProperty("messageType")[0].GetString() ?? string.Empty;
            probe._events.Enqueue(new ReceivedEvent(urn[(urn.LastIndexOf(':') + 1)..], root.GetProperty("message").Clone()));
            probe._arrived.Release();
            return Task.CompletedTask;
        };
        await probe._channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return probe;
    }

    /// <summary>The events of one type and session received so far.</summary>
    public List<ReceivedEvent> Of(string type, string sessionId) =>
        _events.Where(e => e.Type == type && e.SessionId == sessionId).ToList();

    /// <summary>Waits until <paramref name="count"/> events of a type for a session have arrived.</summary>
    public async Task<List<ReceivedEvent>> WaitAsync(string type, string sessionId, int count = 1, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var found = Of(type, sessionId);
            if (found.Count >= count) return found;
            var left = until - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"Expected {count} {type} for {sessionId}, got {found.Count}. All: {string.Join(", ", _events.Select(e => e.Type + "/" + e.SessionId))}");
            }
            await _arrived.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_channel is not null) await _channel.DisposeAsync();
        if (_connection is not null) await _connection.DisposeAsync();
    }
}
