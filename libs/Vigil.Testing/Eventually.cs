using Grpc.Core;

namespace Vigil.Testing;

/// <summary>
/// Waits for something that happens asynchronously (an event consumed, a process ready, a dashboard updated) by
/// asking until the answer is yes, instead of sleeping a fixed time and hoping. Fails with what it waited for,
/// the time it waited and the last error seen. Time that the services measure (deadlines, heartbeat gaps) comes
/// from a <c>FakeTimeProvider</c> the test advances; this only waits for the work that follows.
/// </summary>
public static class Eventually
{
    /// <summary>How long a wait lasts unless told: generous, a loaded CI machine is slow.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How often the condition is asked unless told.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Waits until <paramref name="condition"/> holds.</summary>
    /// <param name="condition">Asked until it returns true; an exception <paramref name="retryOn"/> accepts counts as "not yet".</param>
    /// <param name="what">What is waited for, for the failure message.</param>
    /// <param name="timeout">How long at most (<see cref="DefaultTimeout"/>).</param>
    /// <param name="interval">The pause between two asks (<see cref="DefaultInterval"/>).</param>
    /// <param name="retryOn">Which exceptions mean "not yet" rather than a failure (<see cref="Transient"/> when null).</param>
    public static Task Async(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null, Func<Exception, bool>? retryOn = null) =>
        Async(condition, () => what, timeout, interval, retryOn);

    /// <inheritdoc cref="Async(Func{Task{bool}}, string, TimeSpan?, TimeSpan?, Func{Exception, bool}?)"/>
    public static async Task Async(Func<Task<bool>> condition, Func<string> what, TimeSpan? timeout = null, TimeSpan? interval = null, Func<Exception, bool>? retryOn = null)
    {
        await ValueAsync(async () => await condition() ? true : (bool?)null, what, timeout, interval, retryOn);
    }

    /// <summary>Waits until a synchronous condition holds.</summary>
    public static Task True(Func<bool> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null) =>
        Async(() => Task.FromResult(condition()), () => what, timeout, interval);

    /// <summary>Waits until <paramref name="probe"/> returns a value (not null), and returns it.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T?>> probe, Func<string> what, TimeSpan? timeout = null, TimeSpan? interval = null, Func<Exception, bool>? retryOn = null)
        where T : struct
    {
        var found = await ObjectAsync(async () => await probe() is { } v ? new Box<T>(v) : null, what, timeout, interval, retryOn);
        return found.Value;
    }

    /// <summary>Waits until <paramref name="probe"/> returns an object (not null), and returns it.</summary>
    public static async Task<T> ObjectAsync<T>(Func<Task<T?>> probe, Func<string> what, TimeSpan? timeout = null, TimeSpan? interval = null, Func<Exception, bool>? retryOn = null)
        where T : class
    {
        var limit = timeout ?? DefaultTimeout;
        var pause = interval ?? DefaultInterval;
        var notYet = retryOn ?? Transient;
        var started = TimeProvider.System.GetTimestamp();
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await probe() is { } value) return value;
            }
            catch (Exception ex) when (notYet(ex))
            {
                last = ex;
            }
            if (TimeProvider.System.GetElapsedTime(started) >= limit)
            {
                var lastError = last is null ? string.Empty : $" (last error: {last.GetType().Name}: {last.Message})";
                throw new TimeoutException($"Waited {limit.TotalSeconds:0.#} s for {what()}{lastError}.", last);
            }
            await Task.Delay(pause);
        }
    }

    /// <summary>
    /// Makes <paramref name="call"/> until it succeeds, as a client does while a service or a store comes back
    /// (<see cref="Transient"/> errors unless told); returns its result.
    /// </summary>
    public static Task<T> SucceedsAsync<T>(Func<Task<T>> call, string what, TimeSpan? timeout = null, Func<Exception, bool>? retryOn = null, TimeSpan? interval = null)
        where T : class =>
        ObjectAsync<T>(async () => await call(), () => what, timeout, interval ?? TimeSpan.FromMilliseconds(200), retryOn);

    /// <summary>
    /// Waits until <paramref name="call"/> fails with <paramref name="status"/> (e.g. a token that expires on the real
    /// clock, which token validation reads); a success means "not yet", any other failure fails at once.
    /// </summary>
    public static Task FailsWithAsync(StatusCode status, Func<Task> call, string what, TimeSpan? timeout = null, TimeSpan? interval = null) =>
        Async(async () =>
        {
            try
            {
                await call();
                return false;
            }
            catch (RpcException ex) when (ex.StatusCode == status)
            {
                return true;
            }
        }, what, timeout, interval ?? TimeSpan.FromMilliseconds(250));

    /// <summary>An error that means "not yet": a gRPC Unavailable (a service starting, draining or reached through a gateway still probing it).</summary>
    public static bool Transient(Exception ex) => ex is RpcException { StatusCode: StatusCode.Unavailable };

    private sealed record Box<T>(T Value);
}
