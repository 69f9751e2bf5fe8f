using StackExchange.Redis;
using Vigil.ServiceDefaults.Storage;

namespace Vigil.Session.Storage;

/// <summary>
/// The session service's key layout on the shared scheme (<see cref="RedisKeyspace"/>, prefix <c>Redis:KeyPrefix</c>,
/// default <c>vigil:session:</c>). Every key of one session carries the hash tag <c>{sessionId}</c>, so the scripts
/// that change them together run on one Redis Cluster slot; the indexes that span sessions are global keys written
/// in their own steps, in an order that survives a crash between the steps (docs/session.md).
/// </summary>
internal sealed class SessionKeys(RedisKeyspace keyspace)
{
    /// <summary>The keys of one session, all in the slot of <c>{sessionId}</c>.</summary>
    public SessionRecordKeys Session(string sessionId) => new(keyspace.Record("s", sessionId));

    /// <summary>String: which replica relays a session's outbox now (with a lease); same slot as the outbox.</summary>
    public RedisKey OutboxLease(string sessionId) => keyspace.Record("outbox-lease", sessionId).Key;

    /// <summary>String: the one session of a learner for an exam.</summary>
    public RedisKey Claim(string examId, string learnerId) => keyspace.Record("claim", examId + ":" + learnerId).Key;

    /// <summary>Sorted set: a course's session ids, by start time.</summary>
    public RedisKey CourseSessions(string courseId) => keyspace.Record("course", courseId).Part("sessions");

    /// <summary>Sorted set: session id → deadline (Unix ms), swept by every replica.</summary>
    public RedisKey Deadlines => keyspace.Global("deadlines");

    /// <summary>Sorted set: session id → time the connection counts as lost (Unix ms), swept by every replica.</summary>
    public RedisKey HeartbeatDue => keyspace.Global("heartbeat-due");

    /// <summary>Sorted set: session ids whose outbox may hold events → when announced (Unix ms).</summary>
    public RedisKey OutboxPending => keyspace.Global("outbox-pending");
}

/// <summary>The keys of one session.</summary>
internal readonly record struct SessionRecordKeys(RecordKeys Record)
{
    /// <summary>Hash: the session's fields (state, deadline, last_acked, rev, exam snapshot, receipt…).</summary>
    public RedisKey Hash => Record.Key;
    /// <summary>Hash: question id → the stored answer (protobuf).</summary>
    public RedisKey Answers => Record.Part("answers");
    /// <summary>Hash: question id → "sequence|digest|savedAtMs".</summary>
    public RedisKey AnswerMeta => Record.Part("answer-meta");
    /// <summary>Hash: incident id → "kind|startMs|endMs|details" (endMs empty while open).</summary>
    public RedisKey Incidents => Record.Part("incidents");
    /// <summary>Hash: incident kind → id of the open incident of that kind.</summary>
    public RedisKey OpenIncidents => Record.Part("open-incidents");
    /// <summary>List: the board's decisions (protobuf), oldest first.</summary>
    public RedisKey Decisions => Record.Part("decisions");
    /// <summary>Hash: idempotency keys of board requests → the decision version they recorded.</summary>
    public RedisKey Requests => Record.Part("requests");
    /// <summary>List: events not yet confirmed by the broker (JSON).</summary>
    public RedisKey Outbox => Record.Part("outbox");
}
