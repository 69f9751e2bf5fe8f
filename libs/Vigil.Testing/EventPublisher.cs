using MassTransit;

namespace Vigil.Testing;

/// <summary>
/// Publishes real events through RabbitMQ as a Vigil service does (MassTransit, publisher confirms, the contract's
/// exchanges), from a bus of the test's own on a virtual host: for a consumer under test, or an old event re-published.
/// </summary>
public sealed class EventPublisher : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private EventPublisher(IBusControl bus) => _bus = bus;

    /// <summary>A started publisher on the broker at <paramref name="amqpUri"/> (see <see cref="TestEnvironment.RabbitMq"/>).</summary>
    public static async Task<EventPublisher> StartAsync(string amqpUri)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(new Uri(amqpUri), h => h.PublisherConfirmation = true));
        await bus.StartAsync();
        return new EventPublisher(bus);
    }

    /// <summary>Publishes <paramref name="message"/>; returns once the broker confirmed it.</summary>
    public Task PublishAsync<T>(T message)
        where T : class => _bus.Publish(message);

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
