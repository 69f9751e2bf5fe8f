using StackExchange.Redis;
using Vigil.ServiceDefaults.Storage;

namespace Vigil.Certificate.Store;

/// <summary>
/// The certificate service's key layout on the shared scheme (<see cref="RedisKeyspace"/>, prefix <c>Redis:KeyPrefix</c>,
/// default <c>vigil:certificate:</c>; docs/certificate.md). A session's facts, projection and certificate share the
/// hash tag <c>{sessionId}</c> with its applied event ids; the learner and code indexes are their own slots.
/// </summary>
internal sealed class CertificateKeys(RedisKeyspace keyspace)
{
    /// <summary>Hash: a session's facts, projection and certificate (<see cref="F"/>), or its erasure tombstone.</summary>
    public RedisKey Session(string sessionId) => keyspace.Record("session", sessionId).Key;

    /// <summary>Set: the ids of the events already applied to the session (dedupe).</summary>
    public RedisKey Events(string sessionId) => keyspace.Record("session", sessionId).Part("events");

    /// <summary>Set: the learner's session ids (the dashboard's index).</summary>
    public RedisKey Learner(string learnerId) => keyspace.Record("learner", learnerId).Key;

    /// <summary>String: a verification code → the session holding it, or <c>{erased}|withdrawnAtMs</c> once its learner was erased.</summary>
    public RedisKey Code(string code) => keyspace.Record("code", code).Key;

    /// <summary>
    /// String "requestedAtMs|erasedAtMs": the learner's data was erased; facts about them from before the request are
    /// ignored. Keyed by the learner's digest (no id in a key name or value), for the redelivery horizon.
    /// </summary>
    public RedisKey ErasedLearner(string learnerDigest) => keyspace.Record("erased-learner", learnerDigest).Key;

    /// <summary>Pub/sub: a learner's dashboard changed (the session id), across replicas.</summary>
    public RedisChannel Dashboard(string learnerId) => keyspace.Channel("dashboard:" + learnerId);
}
