using StackExchange.Redis;
using Vigil.ServiceDefaults.Storage;

namespace Vigil.Testing;

/// <summary>
/// For store tests: one connection to the real Redis of scripts/deps.sh, and a fresh <see cref="RedisStorage"/> per
/// test on a keyspace of its own (a new prefix), so tests never see each other's keys. A class fixture.
/// </summary>
public sealed class StoreRedis : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _connection = new(() => ConnectionMultiplexer.Connect(TestEnvironment.Redis));

    /// <summary>The shared connection.</summary>
    public IConnectionMultiplexer Connection => _connection.Value;

    /// <summary>A storage boundary on a keyspace no other test uses.</summary>
    public RedisStorage NewStorage(string service) =>
        new(Connection, new RedisKeyspace($"test-{service}-{Guid.NewGuid().ToString("N")[..8]}:"));

    public void Dispose()
    {
        if (_connection.IsValueCreated) _connection.Value.Dispose();
    }
}
