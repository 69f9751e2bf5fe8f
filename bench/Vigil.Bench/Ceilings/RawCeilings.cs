using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using StackExchange.Redis;
using Vigil.Bench.Measure;

namespace Vigil.Bench.Ceilings;

/// <summary>Throughput and latency of an in-process ceiling run.</summary>
/// <param name="Ops">Operations completed inside the measured window (the rate).</param>
/// <param name="Done">Operations completed in the whole run, warm-up and stragglers after the window included (that it worked).</param>
internal sealed record RawRun(long Ops, double Seconds, Latency Latency, long Errors, string? FirstError, long Done)
{
    /// <summary>Figures of the run's own (e.g. the client's CPU per operation), copied into the scenario's <c>extra</c>.</summary>
    public IReadOnlyDictionary<string, double> Extra { get; init; } = new Dictionary<string, double>();
}

/// <summary>
/// What the store can give: raw writes (HSET of a save-sized value) to the same Redis, with the same
/// appendfsync always, from one multiplexer with many writes in flight, so they are pipelined on one
/// connection exactly as the services' multiplexer pipelines them.
/// </summary>
internal static class RedisCeiling
{
    public static async Task<RawRun> RunAsync(IConnectionMultiplexer mux, int concurrency, double warmup, double seconds)
    {
        var db = mux.GetDatabase();
        var value = new string('x', 200);
        var window = new CeilingWindow(warmup, seconds);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async c =>
        {
            var key = (RedisKey)$"bench:ceiling:{{{c}}}";
            long n = 0;
            while (window.Open(out var started))
            {
                try
                {
                    await db.HashSetAsync(key, "a" + (n++ % 10), value);
                    window.Completed(started);
                }
                catch (RedisException ex)
                {
                    window.Failed(ex.Message);
                }
            }
        }));
        return window.Result();
    }
}

/// <summary>
/// What the certificate path can give: persistent messages published with publisher confirms (each publish
/// awaits its confirm, many publishers in flight) to a durable queue, and consumed with acknowledgements,
/// on the same RabbitMQ. Rate = messages consumed in the window; latency = publish to consume. The
/// connections, channels and consumer are opened once and kept, as a service keeps them.
/// </summary>
internal sealed class RabbitCeiling : IAsyncDisposable
{
    private const string Queue = "vigil-bench-ceiling";
    private IConnection _pub = null!;
    private IConnection _sub = null!;
    private IChannel _consumerChannel = null!;
    private readonly List<IChannel> _channels = [];
    private long _windowStart = long.MaxValue, _windowEnd = long.MinValue, _consumed, _consumedAll;
    private Latency _latency = new();

    public static async Task<RabbitCeiling> OpenAsync(string uri, int channels)
    {
        var c = new RabbitCeiling();
        var factory = new ConnectionFactory { Uri = new Uri(uri) };
        c._pub = await factory.CreateConnectionAsync("vigil-bench-publisher");
        c._sub = await factory.CreateConnectionAsync("vigil-bench-consumer");
        c._consumerChannel = await c._sub.CreateChannelAsync();
        await c._consumerChannel.QueueDeclareAsync(Queue, durable: true, exclusive: false, autoDelete: false);
        await c._consumerChannel.QueuePurgeAsync(Queue);
        await c._consumerChannel.BasicQosAsync(0, 256, false);
        var consumer = new AsyncEventingBasicConsumer(c._consumerChannel);
        consumer.ReceivedAsync += async (_, ea) =>
        {
            var now = Stopwatch.GetTimestamp();
            var sent = BitConverter.ToInt64(ea.Body.Span[..8]);
            Interlocked.Increment(ref c._consumedAll);
            if (now >= Interlocked.Read(ref c._windowStart) && now < Interlocked.Read(ref c._windowEnd)) Interlocked.Increment(ref c._consumed);
            if (sent >= Interlocked.Read(ref c._windowStart) && sent < Interlocked.Read(ref c._windowEnd)) c._latency.RecordTicks(now - sent);
            await c._consumerChannel.BasicAckAsync(ea.DeliveryTag, false);
        };
        await c._consumerChannel.BasicConsumeAsync(Queue, autoAck: false, consumer);
        for (var i = 0; i < Math.Max(1, channels); i++)
        {
            c._channels.Add(await c._pub.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)));
        }
        return c;
    }

    public async Task<RawRun> RunAsync(int publishers, double warmup, double seconds)
    {
        var latency = new Latency();
        _latency = latency;
        Interlocked.Exchange(ref _consumed, 0);
        Interlocked.Exchange(ref _consumedAll, 0);
        long errors = 0;
        string? first = null;
        var start = Stopwatch.GetTimestamp();
        var windowStart = start + (long)(warmup * Stopwatch.Frequency);
        var windowEnd = windowStart + (long)(seconds * Stopwatch.Frequency);
        Interlocked.Exchange(ref _windowStart, windowStart);
        Interlocked.Exchange(ref _windowEnd, windowEnd);
        // A body the size of a BoardDecisionRecorded envelope as MassTransit sends it (about 1 KiB of JSON).
        var props = new BasicProperties { Persistent = true, ContentType = "application/vnd.masstransit+json" };
        await Task.WhenAll(Enumerable.Range(0, publishers).Select(async p =>
        {
            var ch = _channels[p % _channels.Count];
            var body = new byte[1024];
            while (Stopwatch.GetTimestamp() < windowEnd)
            {
                BitConverter.TryWriteBytes(body, Stopwatch.GetTimestamp());
                try
                {
                    await ch.BasicPublishAsync("", Queue, false, props, body);
                }
                catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.PublishException or RabbitMQ.Client.Exceptions.AlreadyClosedException or OperationCanceledException)
                {
                    Interlocked.Increment(ref errors);
                    first ??= ex.Message;
                }
            }
        }));
        await Task.Delay(500);
        return new RawRun(Interlocked.Read(ref _consumed), seconds, latency, errors, first, Interlocked.Read(ref _consumedAll));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var ch in _channels) await ch.DisposeAsync();
        await _consumerChannel.DisposeAsync();
        await _pub.DisposeAsync();
        await _sub.DisposeAsync();
    }
}
