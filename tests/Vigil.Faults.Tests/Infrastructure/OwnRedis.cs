using System.Diagnostics;
using System.Net.Sockets;
using Vigil.Testing;

namespace Vigil.Faults.Tests.Infrastructure;

/// <summary>
/// The suite's own redis-server (never the shared one other suites use): a temporary folder, a free loopback
/// port, appendonly yes and appendfsync always, as in production. It can be killed with SIGKILL and restarted on
/// the same port and folder, where it loads its append-only file.
/// </summary>
public sealed class OwnRedis : IAsyncDisposable
{
    private Process? _process;

    private OwnRedis(string directory, int port)
    {
        Directory = directory;
        Port = port;
    }

    /// <summary>The data folder (redis.conf, the append-only files, redis.log).</summary>
    public string Directory { get; }

    /// <summary>The loopback port.</summary>
    public int Port { get; }

    /// <summary>"127.0.0.1:port".</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>Whether the server process runs.</summary>
    public bool Running => _process is { HasExited: false };

    /// <summary>Times it was killed with SIGKILL.</summary>
    public int Kills { get; private set; }

    public static async Task<OwnRedis> StartAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "vigil-faults-redis-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(dir);
        var redis = new OwnRedis(dir, ServiceProcess.FreePort());
        await File.WriteAllTextAsync(Path.Combine(dir, "redis.conf"), $"""
            bind 127.0.0.1
            port {redis.Port}
            dir {dir}
            appendonly yes
            appendfsync always
            save ""
            daemonize no
            protected-mode yes
            logfile {Path.Combine(dir, "redis.log")}
            """);
        await redis.RunAsync();
        return redis;
    }

    private async Task RunAsync()
    {
        _process = Process.Start(new ProcessStartInfo("redis-server", [Path.Combine(Directory, "redis.conf")])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("redis-server did not start (is it on PATH? scripts/deps.sh installs it).");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        try
        {
            await Eventually.Async(async () => _process.HasExited
                ? throw new InvalidOperationException("redis-server exited: " + Log())
                : await PingAsync(), "redis-server to answer PING", TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException(ex.Message + " " + Log(), ex);
        }
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[64];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var n = await stream.ReadAsync(buffer, cts.Token);
            // While it loads its append-only file it answers -LOADING: not ready yet.
            return n >= 5 && System.Text.Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>kill -9: no shutdown, no final fsync, no rewrite; what is on disk is what survives.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill();
        await _process.WaitForExitAsync();
        Kills++;
    }

    /// <summary>Starts it again on the same port and folder: it loads the append-only file.</summary>
    public Task RestartAsync() => RunAsync();

    /// <summary>The end of its log, for failure messages.</summary>
    public string Log()
    {
        var path = Path.Combine(Directory, "redis.log");
        return File.Exists(path) ? string.Join("\n", File.ReadAllLines(path).TakeLast(20)) : "(no log)";
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
