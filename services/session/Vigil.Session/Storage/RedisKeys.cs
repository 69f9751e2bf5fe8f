using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Vigil.Session.Options;

namespace Vigil.Session.Storage;

/// <summary>
/// The Redis key layout. Every key of one session carries the hash tag <c>{sessionId}</c>, so the
/// scripts that change them together run on one Redis Cluster slot; global indexes are single keys
/// written in their own steps, in an order that survives a crash between the steps.
/// </summary>
internal sealed class RedisKeys(IOptions<SessionServiceOptions> options)
{
    private readonly string _p = options.Value.KeyPrefix;

    /// <summary>The keys of one session, all in the slot of <c>{sessionId}</c>.</summary>
    public SessionKeys Session(string sessionId) => new(_p + "s:{" + sessionId + "}");

    /// <summary>Hash: the exam definition (def), its course and version.</summary>
    public RedisKey Exam(string examId) => _p + "exam:{" + examId + "}";

    /// <summary>Hash: learner id → extra time in milliseconds.</summary>
    public RedisKey ExamExtraTime(string examId) => _p + "exam:{" + examId + "}:extra";

    /// <summary>Hash: request id → result of a GrantExtraTime.</summary>
    public RedisKey ExamRequests(string examId) => _p + "exam:{" + examId + "}:requests";

    /// <summary>String: a CreateExam request id → the exam id it created.</summary>
    public RedisKey ExamCreateRequest(string requestId) => _p + "exam-request:{" + requestId + "}";

    /// <summary>Set: a course's exam ids.</summary>
    public RedisKey CourseExams(string courseId) => _p + "course:{" + courseId + "}:exams";

    /// <summary>Sorted set: a course's session ids, by start time.</summary>
    public RedisKey CourseSessions(string courseId) => _p + "course:{" + courseId + "}:sessions";

    /// <summary>String: the one session of a learner for an exam.</summary>
    public RedisKey Claim(string examId, string learnerId) => _p + "claim:{" + examId + ":" + learnerId + "}";

    /// <summary>Sorted set: session id → deadline (Unix ms), swept by every replica.</summary>
    public RedisKey Deadlines => _p + "deadlines";

    /// <summary>Sorted set: session id → time the connection counts as lost (Unix ms), swept by every replica.</summary>
    public RedisKey HeartbeatDue => _p + "heartbeat-due";

    /// <summary>Sorted set: session ids whose outbox may hold events → when announced (Unix ms).</summary>
    public RedisKey OutboxPending => _p + "outbox-pending";

    /// <summary>String: which replica relays a session's outbox now (with a lease).</summary>
    public RedisKey OutboxLease(string sessionId) => _p + "outbox-lease:{" + sessionId + "}";
}

/// <summary>The keys of one session.</summary>
internal readonly record struct SessionKeys(string Root)
{
    /// <summary>Hash: the session's fields (state, deadline, last_acked, rev, exam snapshot, receipt…).</summary>
    public RedisKey Hash => Root;
    /// <summary>Hash: question id → the stored answer (protobuf).</summary>
    public RedisKey Answers => Root + ":answers";
    /// <summary>Hash: question id → "sequence|digest|savedAtMs".</summary>
    public RedisKey AnswerMeta => Root + ":answer-meta";
    /// <summary>Hash: incident id → "kind|startMs|endMs|details" (endMs empty while open).</summary>
    public RedisKey Incidents => Root + ":incidents";
    /// <summary>Hash: incident kind → id of the open incident of that kind.</summary>
    public RedisKey OpenIncidents => Root + ":open-incidents";
    /// <summary>List: the board's decisions (protobuf), oldest first.</summary>
    public RedisKey Decisions => Root + ":decisions";
    /// <summary>Hash: idempotency keys of board requests → result.</summary>
    public RedisKey Requests => Root + ":requests";
    /// <summary>List: events not yet confirmed by the broker (JSON).</summary>
    public RedisKey Outbox => Root + ":outbox";
}
