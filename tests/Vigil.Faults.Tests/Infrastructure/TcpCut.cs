using System.Net;
using System.Net.Sockets;

namespace Vigil.Faults.Tests.Infrastructure;

/// <summary>
/// A TCP relay on a loopback port in front of a real server (the suite's RabbitMQ). <see cref="Cut"/> resets
/// every open connection and refuses new ones, exactly what clients see when the broker stops; <see cref="Restore"/>
/// accepts again. The broker itself is shared with the other suites, so it is not stopped; the services only
/// reach it through here.
/// </summary>
public sealed class TcpCut : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient A, TcpClient B)> _open = [];
    private readonly Task _accept;
    private volatile bool _cut;

    public TcpCut(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accept = Task.Run(AcceptAsync);
    }

    /// <summary>The relay's port.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections relayed since the start.</summary>
    public int Connections { get; private set; }

    /// <summary>Resets every open connection and refuses new ones until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        _cut = true;
        lock (_open)
        {
            foreach (var (a, b) in _open)
            {
                try { a.Client.LingerState = new LingerOption(true, 0); a.Close(); } catch (Exception) { }
                try { b.Client.LingerState = new LingerOption(true, 0); b.Close(); } catch (Exception) { }
            }
            _open.Clear();
        }
    }

    /// <summary>Accepts connections again.</summary>
    public void Restore() => _cut = false;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            if (_cut)
            {
                client.Client.LingerState = new LingerOption(true, 0);
                client.Close();
                continue;
            }
            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var server = new TcpClient();
        try
        {
            await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
        }
        catch (Exception)
        {
            client.Close();
            server.Dispose();
            return;
        }
        lock (_open) { _open.Add((client, server)); Connections++; }
        using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var up = Pump(client.GetStream(), server.GetStream(), done.Token);
        var down = Pump(server.GetStream(), client.GetStream(), done.Token);
        await Task.WhenAny(up, down);
        await done.CancelAsync();
        client.Close();
        server.Close();
        lock (_open) _open.Remove((client, server));
    }

    private static async Task Pump(NetworkStream from, NetworkStream to, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, ct)) > 0) await to.WriteAsync(buffer.AsMemory(0, n), ct);
        }
        catch (Exception)
        {
            // Either side closed or was reset.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Cut();
        try { await _accept; } catch (Exception) { }
        _stop.Dispose();
    }

    /// <summary>A relay in front of the AMQP URI's host and port; returns the URI to give the services.</summary>
    public static (TcpCut Cut, string Uri) ForAmqp(string amqpUri)
    {
        var target = new Uri(amqpUri);
        var cut = new TcpCut(target.Host, target.Port);
        var relayed = new UriBuilder(target) { Host = "127.0.0.1", Port = cut.Port };
        return (cut, relayed.Uri.ToString());
    }
}
