using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace Vigil.Testing;

/// <summary>
/// A Redis beyond one server, for the failover tests and the benchmark: a Redis Cluster (three primaries, three
/// replicas) or a primary and its replica watched by three redis-sentinel, started by <c>scripts/deps.sh</c> (the one
/// place that knows how) in a folder of its own, every node durable (AOF, fsync always). The test kills nodes
/// (SIGKILL), pauses them (SIGSTOP), resumes and restarts them, and asks the topology who is primary now. Everything it
/// started is stopped by pid on dispose.
/// </summary>
public sealed class RedisTopology : IAsyncDisposable
{
    private readonly List<RedisNode> _nodes;

    private RedisTopology(string directory, string configuration, bool cluster, List<RedisNode> nodes)
    {
        Directory = directory;
        Configuration = configuration;
        IsCluster = cluster;
        _nodes = nodes;
    }

    /// <summary>The folder of every node's files (removed on dispose).</summary>
    public string Directory { get; }

    /// <summary>The StackExchange.Redis configuration string for <c>Redis:Configuration</c>.</summary>
    public string Configuration { get; }

    /// <summary>Whether this is a Redis Cluster (else Sentinel, service name <see cref="ServiceName"/>).</summary>
    public bool IsCluster { get; }

    /// <summary>The Sentinel service name.</summary>
    public const string ServiceName = "vigil";

    /// <summary>The data nodes (primaries and replicas, whatever their role now).</summary>
    public IReadOnlyList<RedisNode> Nodes => [.. _nodes.Where(n => !n.IsSentinel)];

    /// <summary>The sentinels (none for a cluster).</summary>
    public IReadOnlyList<RedisNode> Sentinels => [.. _nodes.Where(n => n.IsSentinel)];

    /// <summary>Starts a Redis Cluster: three primaries, three replicas (<c>cluster-node-timeout</c> in milliseconds).</summary>
    public static Task<RedisTopology> StartClusterAsync(int nodeTimeoutMs = 2000) =>
        StartAsync("redis-cluster", cluster: true, ("VIGIL_REDIS_CLUSTER_NODE_TIMEOUT", nodeTimeoutMs));

    /// <summary>Starts a primary, its replica and three sentinels (<c>down-after-milliseconds</c> in milliseconds).</summary>
    public static Task<RedisTopology> StartSentinelAsync(int downAfterMs = 1000) =>
        StartAsync("redis-sentinel", cluster: false, ("VIGIL_REDIS_SENTINEL_DOWN_AFTER", downAfterMs));

    private static async Task<RedisTopology> StartAsync(string kind, bool cluster, (string Name, int Value) setting)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("vigil-" + kind + "-").FullName;
        var psi = new ProcessStartInfo("bash", [Path.Combine(ServiceProcess.RepositoryRoot, "scripts", "deps.sh"), kind, dir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment[setting.Name] = setting.Value.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var nodes = File.Exists(Path.Combine(dir, "topology")) ? ReadTopology(dir) : [];
        if (process.ExitCode != 0)
        {
            foreach (var node in nodes) node.Stop();
            throw new InvalidOperationException($"scripts/deps.sh {kind} failed ({process.ExitCode}):\n{await stderr}");
        }
        return new RedisTopology(dir, (await stdout).Trim(), cluster, nodes);
    }

    private static List<RedisNode> ReadTopology(string dir) =>
        [.. File.ReadAllLines(Path.Combine(dir, "topology")).Where(l => l.Length > 0).Select(line =>
        {
            var parts = line.Split(' ', 4);
            return new RedisNode(parts[0] == "sentinel", int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture), parts[3]);
        })];

    /// <summary>The data node on <paramref name="port"/>.</summary>
    public RedisNode Node(int port) => _nodes.Single(n => n.Port == port && !n.IsSentinel);

    /// <summary>
    /// The primary that serves <paramref name="key"/> now: for a cluster, the owner of the key's slot in the view of
    /// a live node; for Sentinel, the primary the sentinels name.
    /// </summary>
    public async Task<RedisNode> PrimaryOfAsync(RedisKey key)
    {
        if (!IsCluster) return await PrimaryAsync();
        var slot = int.Parse(await AnyNodeAsync("CLUSTER", "KEYSLOT", key.ToString()), CultureInfo.InvariantCulture);
        return await PrimaryOfSlotAsync(slot);
    }

    /// <summary>Sentinel: the primary the sentinels name now.</summary>
    public async Task<RedisNode> PrimaryAsync()
    {
        foreach (var sentinel in Sentinels.Where(s => s.IsRunning))
        {
            var reply = await sentinel.TryCommandAsync("SENTINEL", "GET-MASTER-ADDR-BY-NAME", ServiceName);
            var lines = reply?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (lines is { Length: 2 }) return Node(int.Parse(lines[1], CultureInfo.InvariantCulture));
        }
        throw new InvalidOperationException("No sentinel names a primary.");
    }

    /// <summary>Cluster: the primary serving <paramref name="slot"/>, per <c>CLUSTER NODES</c> of a live node.</summary>
    public async Task<RedisNode> PrimaryOfSlotAsync(int slot)
    {
        foreach (var line in (await AnyNodeAsync("CLUSTER", "NODES")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ');
            if (!f[2].Contains("master", StringComparison.Ordinal) || f[2].Contains("fail", StringComparison.Ordinal)) continue;
            foreach (var range in f.Skip(8).Where(r => !r.StartsWith('[')))
            {
                var bounds = range.Split('-');
                var from = int.Parse(bounds[0], CultureInfo.InvariantCulture);
                var to = bounds.Length > 1 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) : from;
                if (slot >= from && slot <= to) return Node(PortOf(f[1]));
            }
        }
        throw new InvalidOperationException($"No live primary serves slot {slot}.");
    }

    /// <summary>The replica of <paramref name="primary"/> (its first, from <c>INFO replication</c>).</summary>
    public async Task<RedisNode> ReplicaOfAsync(RedisNode primary)
    {
        var info = await primary.CommandAsync("INFO", "replication");
        var slave = info.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("slave0:", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"Node {primary.Port} has no replica:\n{info}");
        var port = slave.Split(',').Single(p => p.StartsWith("port=", StringComparison.Ordinal))["port=".Length..];
        return Node(int.Parse(port, CultureInfo.InvariantCulture));
    }

    /// <summary>Waits until a node other than <paramref name="dead"/> is the primary for what it served (a key of it).</summary>
    public async Task<(RedisNode Primary, TimeSpan After)> WaitPromotedAsync(RedisNode dead, RedisKey key, TimeSpan timeout)
    {
        var started = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var primary = await PrimaryOfAsync(key);
                if (primary != dead && (await primary.CommandAsync("ROLE")).StartsWith("master", StringComparison.Ordinal))
                {
                    if (!IsCluster || (await primary.CommandAsync("CLUSTER", "INFO")).Contains("cluster_state:ok", StringComparison.Ordinal))
                    {
                        return (primary, started.Elapsed);
                    }
                }
            }
            catch (InvalidOperationException)
            {
                // No live view names a primary yet.
            }
            if (started.Elapsed > timeout) throw new TimeoutException($"No replica of {dead.Port} was promoted within {timeout}.");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Replication lag made real: <paramref name="replica"/> stops (SIGSTOP) and <paramref name="primary"/> drops its
    /// link to it (<c>CLIENT KILL TYPE replica</c>), so what the primary carries out from then on exists on the primary
    /// only, until the replica resumes and catches up, or the primary dies first. SIGSTOP alone is no lag: the kernel
    /// goes on receiving the replication stream into the stopped replica's socket, a killed primary's socket still
    /// delivers what it had sent, and the resumed replica reads it all. <see cref="RedisNode.Resume"/> ends it.
    /// </summary>
    public static async Task DelayReplicaAsync(RedisNode primary, RedisNode replica)
    {
        replica.Pause();
        var dropped = await primary.CommandAsync("CLIENT", "KILL", "TYPE", "replica");
        if (dropped.Trim() == "0") throw new InvalidOperationException($"Redis node {primary.Port} had no replica link to drop.");
    }

    /// <summary>Waits until <paramref name="node"/> is a replica of <paramref name="primary"/> with its link up (a killed primary that came back).</summary>
    public static async Task WaitReplicaOfAsync(RedisNode node, RedisNode primary, TimeSpan timeout)
    {
        var started = Stopwatch.StartNew();
        var port = "master_port:" + primary.Port.ToString(CultureInfo.InvariantCulture);
        while (true)
        {
            var info = await node.TryCommandAsync("INFO", "replication") ?? string.Empty;
            var lines = info.Split('\n').Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);
            if (lines.Contains("role:slave") && lines.Contains(port) && lines.Contains("master_link_status:up")) return;
            if (started.Elapsed > timeout) throw new TimeoutException($"Redis node {node.Port} did not become a replica of {primary.Port} within {timeout}:\n{info}");
            await Task.Delay(100);
        }
    }

    /// <summary>Starts <paramref name="node"/> again from its configuration (it loads its append-only file and rejoins).</summary>
    public async Task RestartAsync(RedisNode node)
    {
        node.Start();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (await node.TryCommandAsync("PING") != "PONG")
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"Redis node {node.Port} did not start again.");
            await Task.Delay(100);
        }
    }

    private async Task<string> AnyNodeAsync(params string[] args)
    {
        foreach (var node in Nodes.Where(n => n.IsRunning && !n.IsPaused))
        {
            if (await node.TryCommandAsync(args) is { } reply && !reply.StartsWith("ERR", StringComparison.Ordinal)) return reply;
        }
        throw new InvalidOperationException("No live node answered " + string.Join(' ', args));
    }

    private static int PortOf(string address) => int.Parse(address.Split('@')[0].Split(':')[1], CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) node.Stop();
        await Task.Delay(200);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A node still flushing its files: the temporary folder is left behind.
        }
    }
}

/// <summary>One redis-server or redis-sentinel of a <see cref="RedisTopology"/>, on its own loopback port.</summary>
public sealed class RedisNode(bool sentinel, int port, int pid, string configFile)
{
    private Process? _restarted;

    /// <summary>Whether this is a redis-sentinel.</summary>
    public bool IsSentinel { get; } = sentinel;

    /// <summary>Its loopback port.</summary>
    public int Port { get; } = port;

    /// <summary>Its process id (a new one after a restart).</summary>
    public int Pid { get; private set; } = pid;

    /// <summary>Its configuration file.</summary>
    public string ConfigFile { get; } = configFile;

    /// <summary>"127.0.0.1:port".</summary>
    public string Endpoint => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether its process runs (paused or not).</summary>
    public bool IsRunning { get; private set; } = true;

    /// <summary>Whether it is stopped with SIGSTOP.</summary>
    public bool IsPaused { get; private set; }

    /// <summary>SIGKILL: the node dies at once, without a word to its peers.</summary>
    public void Kill()
    {
        Signal("KILL");
        IsRunning = false;
        IsPaused = false;
    }

    /// <summary>SIGSTOP: the node stops reading and answering (a frozen machine, a long pause) until <see cref="Resume"/>.</summary>
    public void Pause()
    {
        Signal("STOP");
        IsPaused = true;
    }

    /// <summary>SIGCONT.</summary>
    public void Resume()
    {
        Signal("CONT");
        IsPaused = false;
    }

    /// <summary>Runs a command with redis-cli and returns its reply as text (raw output).</summary>
    public async Task<string> CommandAsync(params string[] args) =>
        await TryCommandAsync(args) ?? throw new InvalidOperationException($"Redis node {Port} did not answer {string.Join(' ', args)}.");

    /// <summary>Runs a command with redis-cli; null when the node does not answer within 5 s.</summary>
    public async Task<string?> TryCommandAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("redis-cli", ["-p", Port.ToString(CultureInfo.InvariantCulture), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            return null;
        }
        var text = (await output).Trim();
        return process.ExitCode == 0 && !text.StartsWith("Could not connect", StringComparison.Ordinal) ? text : null;
    }

    internal void Start()
    {
        if (IsRunning) throw new InvalidOperationException($"Redis node {Port} runs.");
        _restarted = Process.Start(new ProcessStartInfo(IsSentinel ? "redis-sentinel" : "redis-server", [ConfigFile]) { UseShellExecute = false })!;
        Pid = _restarted.Id;
        IsRunning = true;
    }

    internal void Stop()
    {
        if (!IsRunning) return;
        Signal("CONT");
        Signal("KILL");
        IsRunning = false;
        _restarted?.Dispose();
    }

    private void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, Pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }
}
