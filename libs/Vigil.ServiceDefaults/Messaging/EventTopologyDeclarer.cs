using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using Vigil.Contracts.Events;

namespace Vigil.ServiceDefaults.Messaging;

/// <summary>
/// Declares every event exchange, every consumer queue and their bindings exactly as MassTransit's
/// consumers would (message exchange → endpoint exchange → queue, all durable, fanout), so that an
/// event published before its consumer has ever run waits in its queue instead of being dropped.
/// Publishers wait for <see cref="Ready"/> before their first publish.
/// </summary>
public sealed partial class EventTopologyDeclarer(IOptions<RabbitMqOptions> options, ILogger<EventTopologyDeclarer> logger) : BackgroundService
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the topology exists on the broker.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Declares the topology once on the given broker.</summary>
    public static async Task DeclareAsync(string amqpUri, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(amqpUri), ClientProvidedName = "vigil-topology" };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        foreach (var (queue, exchange, _) in EventTopology.ConsumerQueues)
        {
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.ExchangeDeclareAsync(queue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.ExchangeBindAsync(destination: queue, source: exchange, routingKey: string.Empty, cancellationToken: cancellationToken);
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: null, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(queue, queue, string.Empty, cancellationToken: cancellationToken);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DeclareAsync(options.Value.Uri, stoppingToken);
                LogDeclared(logger, EventTopology.ConsumerQueues.Count);
                _ready.TrySetResult();
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRetry(logger, delay, ex);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Event topology declared: {QueueCount} consumer queues bound")]
    private static partial void LogDeclared(ILogger logger, int queueCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event topology not declared yet; retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, TimeSpan delay, Exception exception);
}

/// <summary>Registration of the topology declarer.</summary>
public static class EventTopologyExtensions
{
    /// <summary>Declares the consumer queues at start (publishers and consumers both call this).</summary>
    public static IServiceCollection AddVigilEventTopology(this IServiceCollection services)
    {
        services.AddSingleton<EventTopologyDeclarer>();
        services.AddHostedService(sp => sp.GetRequiredService<EventTopologyDeclarer>());
        return services;
    }
}
