using System.Collections.Concurrent;
using System.Net;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;
using Vigil.ServiceDefaults.Redis;

namespace Vigil.ServiceDefaults.Storage;

/// <summary>
/// The write side of the storage boundary: the connection every write goes over, and what makes a write
/// acknowledged. With <c>Redis:AcknowledgeReplicas</c> = 0 (one standalone server) a write is acknowledged once its
/// primary answered (on disk: <c>appendfsync always</c>). With N &gt; 0 it is acknowledged once N replicas confirmed
/// it too (<c>WAIT N timeout</c>), so that a failover that promotes a replica cannot lose it.
/// <para>
/// <b>Why the WAIT covers this very write.</b> WAIT blocks until the replicas have the replication offset of the
/// <i>connection that sends it</i> at its last write (Redis keeps it per client). Each Redis server gets exactly one
/// interactive connection from a multiplexer, so: (1) the write's commands are profiled, which names the server that
/// carried them out, redirections included (a MOVED or ASK during a resharding runs the write elsewhere than the slot
/// map said); (2) the WAIT goes to that server over that same connection, after the write's reply arrived, so the
/// connection's offset includes the write (and maybe later writes of others: waiting for them too is only more
/// cautious); (3) the connection's socket count (reconnects included) is read before the write and after the WAIT:
/// a different count means the WAIT may have gone over a new socket whose offset knows nothing of the write, and the
/// write is not acknowledged. Writers that finish while a WAIT is in flight share the next one (group commit): one
/// WAIT per server at a time, whatever the number of writers.
/// </para>
/// <para>
/// WAIT holds its connection until the replicas answer, so with N &gt; 0 writes get a connection of their own (reads,
/// pub/sub and health keep theirs), created from the same configuration.
/// </para>
/// </summary>
public sealed class RedisWrites : IDisposable
{
    /// <summary>How often a multi-key write refused with TRYAGAIN (its slot is being migrated) is tried again.</summary>
    private const int MigrationAttempts = 40;

    private static readonly TimeSpan MigrationPause = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan FollowInterval = TimeSpan.FromSeconds(1);

    private readonly IConnectionMultiplexer _connection;
    private readonly IConnectionMultiplexer[] _follow;
    private readonly bool _owned;
    private readonly AsyncLocal<ProfilingSession?> _profiling = new();
    private readonly ConcurrentDictionary<EndPoint, ReplicaWait> _waits = new();
    private long _lastFollow;

    private RedisWrites(IConnectionMultiplexer connection, int replicas, TimeSpan timeout, bool owned, IConnectionMultiplexer[] follow)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(replicas);
        _connection = connection;
        _owned = owned;
        _follow = follow;
        Replicas = replicas;
        Timeout = timeout;
        if (replicas > 0) connection.RegisterProfiler(() => _profiling.Value);
    }

    /// <summary>How many replicas must confirm a write before it counts as acknowledged (0: the primary's reply).</summary>
    public int Replicas { get; }

    /// <summary>How long a write waits for its replicas before it is refused as not acknowledged.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The connection writes go over.</summary>
    public IConnectionMultiplexer Connection => _connection;

    /// <summary>Writes over <paramref name="connection"/>, acknowledged by the primary's reply (no replica waited for).</summary>
    public static RedisWrites PrimaryOnly(IConnectionMultiplexer connection) => new(connection, 0, TimeSpan.Zero, owned: false, [connection]);

    /// <summary>
    /// Writes over <paramref name="connection"/> (which this object then owns and disposes), each acknowledged once
    /// <paramref name="replicas"/> replicas confirmed it within <paramref name="timeout"/>. <paramref name="reads"/> is
    /// the connection reads use: it is asked to follow a failover too.
    /// </summary>
    public static RedisWrites WaitingForReplicas(IConnectionMultiplexer connection, int replicas, TimeSpan timeout, IConnectionMultiplexer? reads = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        return new(connection, replicas, timeout, owned: true, reads is null || reads == connection ? [connection] : [connection, reads]);
    }

    /// <summary>
    /// Runs <paramref name="write"/> (commands on keys of <paramref name="slot"/>'s slot) and returns once it is
    /// acknowledged. A refusal because the slot is being migrated is retried (nothing ran); any other store failure
    /// is thrown (see <see cref="RedisFailure"/>) after asking the connections to re-read the topology when it
    /// suggests a failover.
    /// </summary>
    internal async Task<T> RunAsync<T>(RedisKey slot, Func<IDatabase, Task<T>> write)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return Replicas == 0 ? await write(_connection.GetDatabase()) : await WriteAndWaitAsync(slot, write);
            }
            catch (RedisServerException ex) when (RedisFailure.IsMigrating(ex) && attempt < MigrationAttempts)
            {
                await Task.Delay(MigrationPause);
            }
            catch (Exception ex) when (RedisFailure.SuggestsFailover(ex))
            {
                Follow();
                throw;
            }
        }
    }

    /// <summary>Runs a read with the same patience for a slot being migrated (a multi-key read script).</summary>
    internal static async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await read();
            }
            catch (RedisServerException ex) when (RedisFailure.IsMigrating(ex) && attempt < MigrationAttempts)
            {
                await Task.Delay(MigrationPause);
            }
        }
    }

    private async Task<T> WriteAndWaitAsync<T>(RedisKey slot, Func<IDatabase, Task<T>> write)
    {
        var expected = PrimaryOf(slot);
        var socketsBefore = Sockets(expected);
        var session = new ProfilingSession();
        T result;
        _profiling.Value = session;
        try
        {
            result = await write(_connection.GetDatabase());
        }
        finally
        {
            _profiling.Value = null;
        }
        // Every server the write's commands went to (one, unless a resharding redirected them); each WAIT there.
        foreach (var endpoint in session.FinishProfiling().Select(c => c.EndPoint).Distinct())
        {
            var server = Equals(endpoint, expected.EndPoint) ? expected : _connection.GetServer(endpoint);
            var sockets = ReferenceEquals(server, expected) ? socketsBefore : Sockets(server);
            var confirmed = await _waits.GetOrAdd(endpoint, e => new ReplicaWait(_connection.GetServer(e), Replicas, Timeout)).NextAsync();
            if (Sockets(server) != sockets)
            {
                throw new StoreNotAcknowledgedException(
                    "The write reached the primary, but its connection was replaced before the replicas confirmed it: it is not acknowledged. Retry shortly.");
            }
            if (confirmed < Replicas)
            {
                throw new StoreNotAcknowledgedException(
                    $"The write reached the primary, but {confirmed} of the {Replicas} replica(s) required confirmed it within {Timeout.TotalMilliseconds:0} ms: it is not acknowledged. Retry shortly.");
            }
        }
        return result;
    }

    private static long Sockets(IServer server) => server.GetCounters().Interactive.SocketCount;

    /// <summary>
    /// The server that owns <paramref name="slot"/>. While no connected server does (a primary is gone and none is
    /// promoted yet) StackExchange.Redis throws an InvalidOperationException, which reached clients as INTERNAL during a
    /// Sentinel failover: it is a store outage like a lost connection (UNAVAILABLE with a retry hint, topology re-read).
    /// </summary>
    private IServer PrimaryOf(RedisKey slot)
    {
        try
        {
            return _connection.GetServer(slot);
        }
        catch (InvalidOperationException ex)
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.DemandMaster, "No Redis server owns this key's slot now (a failover may be under way).", ex, CommandStatus.WaitingToBeSent);
        }
    }

    /// <summary>Asks every connection to read the topology again (at most once a second): a failover may have moved a primary.</summary>
    internal void Follow()
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastFollow);
        if (now - last < FollowInterval.TotalMilliseconds || Interlocked.CompareExchange(ref _lastFollow, now, last) != last) return;
        foreach (var connection in _follow)
        {
            _ = connection.ConfigureAsync().ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_owned) _connection.Dispose();
    }

    /// <summary>
    /// The WAITs of one server, one at a time: a writer whose reply arrived joins the next WAIT, which is sent only
    /// after every writer in it had its reply (so the connection's offset covers them all).
    /// </summary>
    private sealed class ReplicaWait(IServer server, int replicas, TimeSpan timeout)
    {
        private readonly object _gate = new();
        private List<TaskCompletionSource<long>>? _next;
        private bool _running;

        public Task<long> NextAsync()
        {
            var waiter = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                (_next ??= []).Add(waiter);
                if (!_running)
                {
                    _running = true;
                    _ = Task.Run(RunAsync);
                }
            }
            return waiter.Task;
        }

        private async Task RunAsync()
        {
            while (true)
            {
                List<TaskCompletionSource<long>> batch;
                lock (_gate)
                {
                    if (_next is null)
                    {
                        _running = false;
                        return;
                    }
                    batch = _next;
                    _next = null;
                }
                try
                {
                    var reply = await server.ExecuteAsync("WAIT", replicas, (long)timeout.TotalMilliseconds);
                    var confirmed = (long)reply;
                    foreach (var waiter in batch) waiter.SetResult(confirmed);
                }
                catch (Exception ex)
                {
                    foreach (var waiter in batch) waiter.SetException(ex);
                }
            }
        }
    }
}
