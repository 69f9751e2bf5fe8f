using System.Threading.Channels;

namespace Vigil.Session.Outbox;

/// <summary>
/// Tells this replica's outbox relay, at once, that a session's outbox just received an event (after the script that
/// wrote it answered), so the event leaves without waiting for the next poll. A hint only: the poll of the pending
/// index stays the guarantee (other replicas' outboxes, a full signal queue, a crash).
/// </summary>
internal sealed class OutboxSignal
{
    private readonly Channel<string> _sessions = Channel.CreateBounded<string>(new BoundedChannelOptions(100_000)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleWriter = false,
        SingleReader = false,
    });

    /// <summary>A session whose outbox has something to relay.</summary>
    public void Notify(string sessionId) => _sessions.Writer.TryWrite(sessionId);

    /// <summary>The signalled sessions, in order.</summary>
    public ChannelReader<string> Sessions => _sessions.Reader;
}
