using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Vigil.ServiceDefaults.Telemetry;
using Vigil.Session.Options;

namespace Vigil.Session.Sessions;

/// <summary>
/// The load of this replica's exam streams: how many are open and how many of their store calls are in flight, against
/// <see cref="SessionServiceOptions.MaxOpenStreams"/> and <see cref="SessionServiceOptions.StoreCallBudget"/>. Past
/// either, the replica is overloaded: new streams are refused early (UNAVAILABLE with a retry hint) and the heartbeat
/// pace widens, while the open streams keep being served. Measured as <c>vigil.session.streams.open</c>,
/// <c>vigil.session.store_calls.in_flight</c>, <c>vigil.session.streams.refused</c> and
/// <c>vigil.session.messages.retried</c>.
/// </summary>
internal sealed class ExamLoad
{
    private readonly IOptions<SessionServiceOptions> _options;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _retried;
    private int _open;
    private int _inFlight;

    public ExamLoad(IMeterFactory meters, IOptions<SessionServiceOptions> options)
    {
        _options = options;
        var meter = meters.Create(TelemetryExtensions.MeterPrefix + "Session");
        meter.CreateObservableGauge("vigil.session.streams.open", () => OpenStreams, description: "Exam streams open on this replica.");
        meter.CreateObservableGauge("vigil.session.store_calls.in_flight", () => StoreCallsInFlight,
            description: "Store calls of the exam streams in flight on this replica (against Session:StoreCallBudget).");
        _refused = meter.CreateCounter<long>("vigil.session.streams.refused", description: "New exam streams refused because this replica was overloaded.");
        _retried = meter.CreateCounter<long>("vigil.session.messages.retried",
            description: "Stream messages answered with RetryLater (their store call timed out or failed in a way that passes).");
    }

    /// <summary>Exam streams open on this replica.</summary>
    public int OpenStreams => Volatile.Read(ref _open);

    /// <summary>Store calls of the exam streams in flight now.</summary>
    public int StoreCallsInFlight => Volatile.Read(ref _inFlight);

    /// <summary>
    /// How loaded the replica is: the larger of the in-flight store calls over their budget and the open streams over
    /// their limit (0 idle, 1 at the limit, above 1 past it).
    /// </summary>
    public double Pressure
    {
        get
        {
            var o = _options.Value;
            return Math.Max(StoreCallsInFlight / (double)o.StoreCallBudget, OpenStreams / (double)o.MaxOpenStreams);
        }
    }

    /// <summary>
    /// Admits a new stream, or refuses it (false) when the store calls in flight are at their budget or the open
    /// streams at their limit. An admitted stream calls <see cref="StreamClosed"/> when it ends.
    /// </summary>
    public bool TryOpenStream()
    {
        var o = _options.Value;
        if (StoreCallsInFlight >= o.StoreCallBudget)
        {
            _refused.Add(1, new KeyValuePair<string, object?>("reason", "store_calls"));
            return false;
        }
        if (Interlocked.Increment(ref _open) > o.MaxOpenStreams)
        {
            Interlocked.Decrement(ref _open);
            _refused.Add(1, new KeyValuePair<string, object?>("reason", "open_streams"));
            return false;
        }
        return true;
    }

    /// <summary>An admitted stream ended.</summary>
    public void StreamClosed() => Interlocked.Decrement(ref _open);

    /// <summary>Counts one store call in flight until the returned value is disposed.</summary>
    public StoreCall EnterStoreCall()
    {
        Interlocked.Increment(ref _inFlight);
        return new StoreCall(this);
    }

    /// <summary>One message answered with RetryLater (<paramref name="kind"/>: save, heartbeat).</summary>
    public void Retried(string kind) => _retried.Add(1, new KeyValuePair<string, object?>("kind", kind));

    /// <summary>A store call in flight (disposing it ends it).</summary>
    internal readonly struct StoreCall(ExamLoad load) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref load._inFlight);
    }
}
