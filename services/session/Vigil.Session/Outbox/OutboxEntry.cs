using System.Text.Json;
using System.Text.Json.Serialization;
using Vigil.Contracts.Events;

namespace Vigil.Session.Outbox;

/// <summary>One event waiting in a session's (or an erasure request's) outbox: its type and its JSON. The event's own EventId identifies it.</summary>
internal sealed record OutboxEntry(string Type, JsonElement Event)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    private static readonly Dictionary<string, Type> Types = new(StringComparer.Ordinal)
    {
        [nameof(SessionSubmitted)] = typeof(SessionSubmitted),
        [nameof(SessionExpired)] = typeof(SessionExpired),
        [nameof(BoardDecisionRecorded)] = typeof(BoardDecisionRecorded),
        [nameof(LearnerErasureRequested)] = typeof(LearnerErasureRequested),
    };

    /// <summary>The outbox line of an event (one of the event types above).</summary>
    public static string Serialize(object evt)
    {
        var type = evt.GetType();
        if (!Types.TryGetValue(type.Name, out var known) || known != type) throw new ArgumentException($"{type.Name} is not an event of the outbox.", nameof(evt));
        return JsonSerializer.Serialize(new OutboxEntry(type.Name, JsonSerializer.SerializeToElement(evt, type, Json)), Json);
    }

    /// <summary>The event of an outbox line, with its type; null when the line is not understood.</summary>
    public static (object Event, Type Type)? Deserialize(string line)
    {
        var entry = JsonSerializer.Deserialize<OutboxEntry>(line, Json);
        if (entry is null || !Types.TryGetValue(entry.Type, out var type)) return null;
        var evt = entry.Event.Deserialize(type, Json);
        return evt is null ? null : (evt, type);
    }
}
