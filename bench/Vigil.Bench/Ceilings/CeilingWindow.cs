using System.Diagnostics;
using Vigil.Bench.Measure;

namespace Vigil.Bench.Ceilings;

/// <summary>
/// The measured window of a closed-loop ceiling, shared by its workers: a warm-up, then <see cref="Seconds"/> of window.
/// It counts what completed in the whole run (that it worked) and inside the window (the rate), the latency of what
/// started inside it, the errors and the first one's message. Workers start operations while <see cref="Open"/>.
/// </summary>
internal sealed class CeilingWindow(double warmup, double seconds)
{
    private readonly Latency _latency = new();
    private readonly long _start = Stopwatch.GetTimestamp() + (long)(warmup * Stopwatch.Frequency);
    private long _ops, _opsAfterStart, _errors, _done, _lastCompletion;
    private string? _first;

    public double Seconds { get; } = seconds;

    /// <summary>Operations completed so far, window or not.</summary>
    public long Done => Interlocked.Read(ref _done);

    private long End => _start + (long)(Seconds * Stopwatch.Frequency);

    /// <summary>Whether an operation may start now (the window has not ended); its start time.</summary>
    public bool Open(out long started)
    {
        started = Stopwatch.GetTimestamp();
        return started < End;
    }

    /// <summary><paramref name="count"/> operations that started at <paramref name="started"/> completed now.</summary>
    public void Completed(long started, long count = 1)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Add(ref _done, count);
        if (now >= _start)
        {
            Interlocked.Add(ref _opsAfterStart, count);
            Atomic.Max(ref _lastCompletion, now);
            if (now < End) Interlocked.Add(ref _ops, count);
        }
        if (started >= _start) _latency.RecordTicks(now - started);
    }

    /// <summary><paramref name="count"/> operations failed; the first failure's message is kept.</summary>
    public void Failed(string message, long count = 1)
    {
        Interlocked.Add(ref _errors, count);
        Interlocked.CompareExchange(ref _first, message, null);
    }

    /// <summary>
    /// The run: the rate over the window, or with <paramref name="untilLastCompletion"/> everything that completed after
    /// the window started over the time to the last completion (operations longer than a short window, e.g. a photo check).
    /// </summary>
    public RawRun Result(bool untilLastCompletion = false, string? problem = null)
    {
        var first = _first ?? problem;
        if (!untilLastCompletion || _opsAfterStart == 0) return new RawRun(_ops, Seconds, _latency, _errors, first, _done);
        var measured = Math.Max(0.001, (_lastCompletion - _start) / (double)Stopwatch.Frequency);
        return new RawRun(_opsAfterStart, measured, _latency, _errors, first, _done);
    }
}
