using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Storage;

namespace Vigil.Identity.Storage;

/// <summary>
/// The identity service's key layout on the shared scheme (<see cref="RedisKeyspace"/>, prefix <c>Redis:KeyPrefix</c>,
/// default <c>vigil:identity:</c>). Everything about one learner shares the hash tag <c>{learnerId}</c>, so one Lua
/// script can change it atomically on Redis Cluster, and erasure reaches it all through the learner's index set.
/// </summary>
internal sealed class IdentityKeys(RedisKeyspace keyspace)
{
    /// <summary>The root of a learner's keys; the hash: email (as entered), canonical, display_name, registered_at (unix ms). No TTL.</summary>
    public RedisKey Learner(string learnerId) => Of(learnerId).Key;

    /// <summary>Set of every other key kept for the learner (verifications, photos, idempotent replies); erasure deletes them all.</summary>
    public RedisKey Index(string learnerId) => Of(learnerId).Part("index");

    /// <summary>String (JSON <c>VerificationRecord</c>), TTL = photo retention, refreshed on every change.</summary>
    public RedisKey Verification(string learnerId, string examId) => Of(learnerId).Part("verif:" + examId);

    /// <summary>Hash: data (AES-GCM blob), exam, kind, taken_at, expires_at, key_id. TTL = photo retention.</summary>
    public RedisKey Photo(string learnerId, string photoId) => Of(learnerId).Part("photo:" + photoId);

    /// <summary>String: the serialized first reply of a mutating call, TTL = the idempotency window.</summary>
    public RedisKey Idempotency(string learnerId, string method, string requestId) => Of(learnerId).Part("idem:" + method + ":" + requestId);

    /// <summary>
    /// String "learnerId|claimedAtUnixMs": who owns a mailbox. Keyed by the SHA-256 of the canonical address (no address
    /// in key names; braces in an address cannot pick a hash tag). Its own slot: see docs/identity.md.
    /// </summary>
    public RedisKey Email(string canonicalEmail) =>
        keyspace.Record("email", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalEmail)))).Key;

    /// <summary>String (JSON): an exam's verification requirements (course, room scan). No TTL.</summary>
    public RedisKey Exam(string examId) => keyspace.Record("exam", examId).Key;

    /// <summary>The keys of one learner.</summary>
    internal RecordKeys Of(string learnerId) => keyspace.Record("learner", learnerId);
}
