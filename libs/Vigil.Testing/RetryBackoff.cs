using System.Globalization;
using Google.Rpc;
using Grpc.Core;

namespace Vigil.Testing;

/// <summary>
/// How a client waits before it tries again, as the proctoring client does: the server's hint when it gave one (a
/// status's <c>google.rpc.RetryInfo</c>, else the <c>grpc-retry-pushback-ms</c> trailer, a RetryLater's retry_after),
/// else exponential from 200 ms, doubling up to 3.2 s; always with jitter on top (0-50 % more, at random), so that a
/// crowd refused together does not come back together.
/// </summary>
public static class RetryBackoff
{
    /// <summary>The trailer of the server's retry pushback (gRFC A6), in milliseconds.</summary>
    public const string PushbackTrailer = "grpc-retry-pushback-ms";

    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Longest = TimeSpan.FromMilliseconds(3200);

    /// <summary>The server's retry hint of a failed call: its RetryInfo, else its pushback trailer; null without one.</summary>
    public static TimeSpan? Hint(RpcException failure)
    {
        if (failure.GetRpcStatus()?.GetDetail<RetryInfo>() is { } info) return info.RetryDelay.ToTimeSpan();
        var pushback = failure.Trailers.GetValue(PushbackTrailer);
        return long.TryParse(pushback, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms >= 0 ? TimeSpan.FromMilliseconds(ms) : null;
    }

    /// <summary>The wait before attempt <paramref name="attempt"/> (1 for the first retry) after <paramref name="failure"/>, jitter included.</summary>
    public static TimeSpan After(RpcException failure, int attempt, Random? random = null) =>
        Jitter(Hint(failure) ?? Exponential(attempt), random);

    /// <summary>200 ms for the first retry, doubling up to 3.2 s.</summary>
    public static TimeSpan Exponential(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(First.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 16)), Longest.TotalMilliseconds));

    /// <summary><paramref name="delay"/> plus a random 0-50 % of it.</summary>
    public static TimeSpan Jitter(TimeSpan delay, Random? random = null) =>
        delay + delay * ((random ?? Random.Shared).NextDouble() * 0.5);
}
