using System.Diagnostics;

namespace Vigil.Failover.Tests.Exam;

/// <summary>
/// Polls a process's readiness (<c>/health/ready</c>, as the kubelet and the gateway do) every 200 ms and keeps each
/// answer: when, ready or not, how long it took.
/// </summary>
internal sealed class ReadinessWatch : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(TimeSpan At, bool Ready, TimeSpan Took)> _answers = [];
    private readonly Task _loop;

    public ReadinessWatch(Uri managementAddress)
    {
        var url = new Uri(managementAddress, "/health/ready");
        _loop = Task.Run(() => LoopAsync(url));
    }

    /// <summary>The watch's clock (since it started).</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>The answers from <paramref name="from"/> on.</summary>
    public IReadOnlyList<(TimeSpan At, bool Ready, TimeSpan Took)> Since(TimeSpan from)
    {
        lock (_answers) return [.. _answers.Where(a => a.At >= from)];
    }

    private async Task LoopAsync(Uri url)
    {
        while (!_stop.IsCancellationRequested)
        {
            var started = _clock.Elapsed;
            bool ready;
            try
            {
                using var reply = await _http.GetAsync(url, _stop.Token);
                ready = reply.IsSuccessStatusCode;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                ready = false;
            }
            lock (_answers) _answers.Add((started, ready, _clock.Elapsed - started));
            try
            {
                await Task.Delay(200, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _http.Dispose();
        _stop.Dispose();
    }
}
