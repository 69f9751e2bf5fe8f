using System.Text.Json;
using System.Text.Json.Nodes;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Vigil.Contracts.Events;

namespace Vigil.Testing;

/// <summary>One event as it reached the broker: its type (from the MassTransit envelope), session, event id, message and exact bytes.</summary>
public sealed record ProbedEvent(string Type, string SessionId, string EventId, JsonElement Message, byte[] Body, string? ContentType);

/// <summary>
/// A real RabbitMQ consumer straight on the broker: its own exclusive queue bound to every event exchange of a
/// virtual host, so a test sees what the outbox relay really published (never through a cut or a proxy), waits for
/// it as it arrives, and can publish an event's exact bytes again to a consumer queue (a redelivery).
/// </summary>
public sealed class EventProbe : IAsyncDisposable
{
    private readonly List<ProbedEvent> _events = [];
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IConnection _connection = null!;
    private IChannel _channel = null!;

    /// <summary>Starts a probe on the broker at <paramref name="amqpUri"/> (a virtual host's URI, see <see cref="TestEnvironment.RabbitMq"/>).</summary>
    public static async Task<EventProbe> StartAsync(string amqpUri, string name = "vigil-tests-probe")
    {
        var probe = new EventProbe();
        var factory = new ConnectionFactory { Uri = new Uri(amqpUri), ClientProvidedName = name };
        probe._connection = await factory.CreateConnectionAsync();
        probe._channel = await probe._connection.CreateChannelAsync();
        var queue = await probe._channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true);
        foreach (var exchange in EventTopology.ConsumerQueues.Select(q => q.Exchange).Distinct())
        {
            await probe._channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
            await probe._channel.QueueBindAsync(queue.QueueName, exchange, string.Empty);
        }
        var consumer = new AsyncEventingBasicConsumer(probe._channel);
        consumer.ReceivedAsync += (_, ea) =>
        {
            probe.Record(ea.Body.ToArray(), ea.BasicProperties.ContentType);
            return Task.CompletedTask;
        };
        await probe._channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return probe;
    }

    /// <summary>Every event received so far, in arrival order.</summary>
    public IReadOnlyList<ProbedEvent> All
    {
        get { lock (_events) return [.. _events]; }
    }

    /// <summary>The events of one type (e.g. "SessionSubmitted") received so far for a session.</summary>
    public List<ProbedEvent> Of(string type, string sessionId) => Of(type, [sessionId]);

    /// <summary>The events of one type received so far for some sessions.</summary>
    public List<ProbedEvent> Of(string type, IEnumerable<string> sessionIds)
    {
        var ids = sessionIds.ToHashSet(StringComparer.Ordinal);
        lock (_events) return [.. _events.Where(e => e.Type == type && ids.Contains(e.SessionId))];
    }

    /// <summary>Waits until <paramref name="count"/> events of a type arrived for a session; returns them (all of them, when more came).</summary>
    public Task<List<ProbedEvent>> WaitAsync(string type, string sessionId, int count = 1, TimeSpan? timeout = null) =>
        WaitAsync(type, [sessionId], count, timeout);

    /// <summary>Waits until <paramref name="count"/> events of a type arrived for the sessions; returns them.</summary>
    public async Task<List<ProbedEvent>> WaitAsync(string type, IEnumerable<string> sessionIds, int count, TimeSpan? timeout = null)
    {
        var ids = sessionIds.ToList();
        using var cts = new CancellationTokenSource(timeout ?? Eventually.DefaultTimeout);
        while (true)
        {
            Task arrived;
            lock (_events) arrived = _arrived.Task;
            var found = Of(type, ids);
            if (found.Count >= count) return found;
            try
            {
                await arrived.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"Expected {count} {type} for {string.Join(", ", ids.Take(5))}{(ids.Count > 5 ? ", …" : string.Empty)}; got {found.Count}. "
                    + $"All received: {string.Join(", ", All.TakeLast(20).Select(e => e.Type + "/" + e.SessionId))}");
            }
        }
    }

    /// <summary>Publishes an event's exact bytes straight to a consumer queue: the consumer sees the same message again.</summary>
    public async Task RedeliverAsync(ProbedEvent e, string queue)
    {
        var props = new BasicProperties { ContentType = e.ContentType ?? "application/vnd.masstransit+json", Persistent = true };
        await _channel.BasicPublishAsync(string.Empty, queue, mandatory: false, props, e.Body);
    }

    /// <summary>
    /// A copy of <paramref name="template"/> as a different fact: new message and event ids, another session and
    /// learner (everything else, the envelope included, as the real publisher wrote it).
    /// </summary>
    public static ProbedEvent Variant(ProbedEvent template, string sessionId, string learnerId)
    {
        var root = JsonNode.Parse(template.Body)!.AsObject();
        var eventId = Guid.NewGuid().ToString();
        root["messageId"] = Guid.NewGuid().ToString();
        var message = root["message"]!.AsObject();
        message["eventId"] = eventId;
        message["sessionId"] = sessionId;
        message["learnerId"] = learnerId;
        var body = System.Text.Encoding.UTF8.GetBytes(root.ToJsonString());
        using var doc = JsonDocument.Parse(body);
        return template with { SessionId = sessionId, EventId = eventId, Body = body, Message = doc.RootElement.GetProperty("message").Clone() };
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }

    private void Record(byte[] body, string? contentType)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        var urn = root.GetProperty("messageType")[0].GetString() ?? string.Empty;
        var message = root.GetProperty("message").Clone();
        var e = new ProbedEvent(
            urn[(urn.LastIndexOf(':') + 1)..],
            message.TryGetProperty("sessionId", out var s) ? s.GetString() ?? string.Empty : string.Empty,
            message.TryGetProperty("eventId", out var id) ? id.GetString() ?? string.Empty : string.Empty,
            message,
            body,
            contentType);
        TaskCompletionSource arrived;
        lock (_events)
        {
            _events.Add(e);
            arrived = _arrived;
            _arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        arrived.TrySetResult();
    }
}
