using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using StackExchange.Redis;
using Vigil.Bench.Measure;

namespace Vigil.Bench.Ceilings;

/// <summary>Throughput and latency of an in-process ceiling run.</summary>
internal sealed record RawRun(long Ops, double Seconds, Latency Latency, long Errors, string? FirstError);

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
        var latency = new Latency();
        long ops = 0, errors = 0;
        string? first = null;
        var start = Stopwatch.GetTimestamp();
        var windowStart = start + (long)(warmup * Stopwatch.Frequency);
        var windowEnd = windowStart + (long)(seconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async c =>
        {
            var key = (RedisKey)$"bench:ceiling:{{{c}}}";
            long n = 0;
            while (true)
            {
                var t0 = Stopwatch.GetTimestamp();
                if (t0 >= windowEnd) break;
                try
                {
                    await db.HashSetAsync(key, "a" + (n++ % 10), value);
                    var t1 = Stopwatch.GetTimestamp();
                    if (t1 >= windowStart && t1 < windowEnd) Interlocked.Increment(ref ops);
                    if (t0 >= windowStart) latency.RecordTicks(t1 - t0);
                }
                catch (RedisException ex)
                {
                    Interlocked.Increment(ref errors);
                    first ??= ex.Message;
                }
            }
        }));
        return new RawRun(ops, seconds, latency, errors, first);
    }
}

/// <summary>
/// What the certificate path can give: persistent messages published with publisher confirms (each publish
/// awaits its confirm, many publishers in flight) to a durable queue, and consumed with acknowledgements,
/// on the same RabbitMQ. Rate = messages consumed in the window; latency = publish to consume.
/// </summary>
internal static class RabbitCeiling
{
    public static async Task<RawRun> RunAsync(string uri, int publishers, double warmup, double seconds)
    {
        var factory = new ConnectionFactory { Uri = new Uri(uri) };
        await using var pubConn = await factory.CreateConnectionAsync("vigil-bench-publisher");
        await using var subConn = await factory.CreateConnectionAsync("vigil-bench-consumer");
        var queue = "vigil-bench-ceiling";
        await using (var setup = await subConn.CreateChannelAsync())
        {
            await setup.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
            await setup.QueuePurgeAsync(queue);
        }
        var latency = new Latency();
        long consumed = 0, errors = 0;
        string? first = null;
        var start = Stopwatch.GetTimestamp();
        var windowStart = start + (long)(warmup * Stopwatch.Frequency);
        var windowEnd = windowStart + (long)(seconds * Stopwatch.Frequency);

        await using var sub = await subConn.CreateChannelAsync();
        await sub.BasicQosAsync(0, 256, false);
        var consumer = new AsyncEventingBasicConsumer(sub);
        consumer.ReceivedAsync += async (_, ea) =>
        {
            var now = Stopwatch.GetTimestamp();
            var sent = BitConverter.ToInt64(ea.Body.Span[..8]);
            if (now >= windowStart && now < windowEnd) Interlocked.Increment(ref consumed);
            if (sent >= windowStart && sent < windowEnd) latency.RecordTicks(now - sent);
            await sub.BasicAckAsync(ea.DeliveryTag, false);
        };
        var tag = await sub.BasicConsumeAsync(queue, autoAck: false, consumer);

        // A body the size of a BoardDecisionRecorded envelope as MassTransit sends it (about 1 KiB of JSON).
        var body = new byte[1024];
        var props = new BasicProperties { Persistent = true, ContentType = "application/vnd.masstransit+json" };
        var channels = new List<IChannel>();
        for (var i = 0; i < Math.Max(1, publishers / 16); i++)
        {
            channels.Add(await pubConn.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)));
        }
        await Task.WhenAll(Enumerable.Range(0, publishers).Select(async p =>
        {
            var ch = channels[p % channels.Count];
            var mine = new byte[body.Length];
            while (Stopwatch.GetTimestamp() < windowEnd)
            {
                BitConverter.TryWriteBytes(mine, Stopwatch.GetTimestamp());
                try
                {
                    await ch.BasicPublishAsync("", queue, false, props, mine);
                }
                catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.PublishException or RabbitMQ.Client.Exceptions.AlreadyClosedException or OperationCanceledException)
                {
                    Interlocked.Increment(ref errors);
                    first ??= ex.Message;
                }
            }
        }));
        await Task.Delay(500);
        await sub.BasicCancelAsync(tag);
        foreach (var ch in channels) await ch.DisposeAsync();
        return new RawRun(consumed, seconds, latency, errors, first);
    }
}
