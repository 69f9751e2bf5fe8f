using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
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

    /// <summary>
    /// The pending-index member of an erasure request's outbox (<see cref="OutboxPending"/>): <c>erasure/&lt;requestId&gt;</c>.
    /// A session id never holds a '/', nor does a request id.
    /// </summary>
    public static string ErasureOutboxMember(string requestId) => ErasureMemberPrefix + requestId;

    /// <summary>The request id of an erasure request's pending-index member, or null for a session's.</summary>
    public static string? ErasureRequestOf(string outboxMember) =>
        outboxMember.StartsWith(ErasureMemberPrefix, StringComparison.Ordinal) ? outboxMember[ErasureMemberPrefix.Length..] : null;

    private const string ErasureMemberPrefix = "erasure/";

    /// <summary>The keys of one erasure request (the request, its outbox and the outbox's lease), all in the slot of <c>{requestId}</c>.</summary>
    public ErasureRequestKeys ErasureRequest(string requestId) => new(keyspace.Record("erasure", requestId));

    /// <summary>The outbox and its lease named by a pending-index member: a session's, or an erasure request's.</summary>
    public (RedisKey Lease, RedisKey Outbox) OutboxOf(string outboxMember) =>
        ErasureRequestOf(outboxMember) is { } requestId
            ? (ErasureRequest(requestId).OutboxLease, ErasureRequest(requestId).Outbox)
            : (OutboxLease(outboxMember), Session(outboxMember).Outbox);

    /// <summary>String: the learner's latest attempt (session) at an exam; a new one is claimed only once it has ended.</summary>
    public RedisKey Claim(string examId, string learnerId) => keyspace.Record("claim", examId + ":" + learnerId).Key;

    /// <summary>
    /// The keys of a learner's attempts at an exam, in the slot of the claim (ClaimAttempt.lua counts and claims in one
    /// step): <c>Attempts</c>, a hash session id → attempt number (every attempt, reset ones too); <c>Spent</c>, a set of
    /// the attempts that count against the exam's <c>max_attempts</c> (not reset).
    /// </summary>
    public (RedisKey Claim, RedisKey Attempts, RedisKey Spent) AttemptKeys(string examId, string learnerId)
    {
        var record = keyspace.Record("claim", examId + ":" + learnerId);
        return (record.Key, record.Part("attempts"), record.Part("spent"));
    }

    /// <summary>
    /// Sorted set (score 0, ordered by member "startedAtMs|sessionId", which never changes): a learner's sessions, written
    /// before the session itself (readers skip ids without a session); ListMySessions pages it with a cursor, erasure
    /// finds the learner's sessions here. Deleted by the erasure; the retention sweeper removes a session from it.
    /// </summary>
    public RedisKey LearnerSessions(string learnerId) => keyspace.Record("learner", learnerId).Part("sessions");

    /// <summary>Sorted set: a course's session ids, by start time.</summary>
    public RedisKey CourseSessions(string courseId) => keyspace.Record("course", courseId).Part("sessions");

    /// <summary>
    /// Sorted set (score 0, ordered by member "finishedAtMs|sessionId"): a course's finished sessions in one review
    /// list (all, awaiting a decision, decided…). Every set of a course shares the hash tag <c>{courseId}</c>, so one
    /// script changes a session's memberships at once; the session's own keys are in another slot (see
    /// <c>SessionStore.IndexForReviewAsync</c> for the order that survives a crash).
    /// </summary>
    public RedisKey ReviewSet(string courseId, ReviewFilter filter) =>
        keyspace.Record("course", courseId).Part("review:" + Vigil.Session.Review.ReviewFilters.KeyName(filter));

    /// <summary>Hash: a course's indexed session ids → their review member (what a purge takes out of the review sets).</summary>
    public RedisKey ReviewMembers(string courseId) => keyspace.Record("course", courseId).Part("review-members");

    /// <summary>Sorted set: session id → deadline (Unix ms), swept by every replica.</summary>
    public RedisKey Deadlines => keyspace.Global("deadlines");

    /// <summary>Sorted set: session id → time the connection counts as lost (Unix ms), swept by every replica.</summary>
    public RedisKey HeartbeatDue => keyspace.Global("heartbeat-due");

    /// <summary>
    /// Sorted set: outboxes that may hold events → when announced (Unix ms). A member is a session id, or
    /// <c>erasure/&lt;requestId&gt;</c> for an erasure request's outbox (see <c>OutboxStore</c>).
    /// </summary>
    public RedisKey OutboxPending => keyspace.Global("outbox-pending");

    /// <summary>
    /// Sorted set: session id → when its retention may end (Unix ms), written before the session itself; a hint for
    /// the retention sweeper, which works the exact time out from the session (its deadline, its latest decision).
    /// </summary>
    public RedisKey RetentionDue => keyspace.Global("retention-due");
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
    /// <summary>List: the board's second looks (protobuf SecondLook), oldest first; the last is open while the hash holds second_look_by.</summary>
    public RedisKey SecondLooks => Record.Part("second-looks");
    /// <summary>Hash: idempotency keys of board requests → the decision version they recorded.</summary>
    public RedisKey Requests => Record.Part("requests");
    /// <summary>List: events not yet confirmed by the broker (JSON).</summary>
    public RedisKey Outbox => Record.Part("outbox");
    /// <summary>
    /// Hash: what is left of a session whose learner's data was erased (<c>ErasedSession</c>: exam, course, state,
    /// times, decisions without their notes; no learner). Its own key, so that every script on the session finds the
    /// session missing.
    /// </summary>
    public RedisKey Erased => Record.Part("erased");
    /// <summary>
    /// Hash: the audit entries of the staff's and board's actions on this session (entry id → <c>AuditEntry</c>), each
    /// written by its action's script, never changed; no learner data, so an erasure keeps it; retention deletes it
    /// with the session (<c>AuditTrail</c>).
    /// </summary>
    public RedisKey Audit => Record.Part("audit");
}

/// <summary>The keys of one erasure request, all in the slot of its id.</summary>
internal readonly record struct ErasureRequestKeys(RecordKeys Record)
{
    /// <summary>Hash: the request (learner while pending, its digest, who and when, each service's report, the state).</summary>
    public RedisKey Request => Record.Key;
    /// <summary>List: the request's events not yet confirmed by the broker (JSON), as a session's outbox.</summary>
    public RedisKey Outbox => Record.Part("outbox");
    /// <summary>String: which replica relays the request's outbox now (with a lease).</summary>
    public RedisKey OutboxLease => Record.Part("outbox-lease");
}
