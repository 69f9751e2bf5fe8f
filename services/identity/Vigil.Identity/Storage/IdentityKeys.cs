using System.Security.Cryptography;
using System.Text;

namespace Vigil.Identity.Storage;

/// <summary>
/// Redis key layout. Everything about one learner shares the hash tag {learnerId}, so one Lua script can
/// change it atomically on Redis Cluster and erasure reaches it all through the learner's index set.
/// </summary>
internal static class IdentityKeys
{
    /// <summary>Hash: email (as entered), canonical, display_name, registered_at (unix ms). No TTL.</summary>
    public static string Learner(string learnerId) => $"identity:{{{learnerId}}}:learner";

    /// <summary>Set of every other key kept for the learner (verifications, photos, idempotency records); erasure deletes them all.</summary>
    public static string Index(string learnerId) => $"identity:{{{learnerId}}}:index";

    /// <summary>String (JSON <c>VerificationRecord</c>), TTL = photo retention, refreshed on every change.</summary>
    public static string Verification(string learnerId, string examId) => $"identity:{{{learnerId}}}:verif:{examId}";

    /// <summary>Hash: data (AES-GCM blob), exam, kind, taken_at, expires_at, key_id. TTL = photo retention.</summary>
    public static string Photo(string learnerId, string photoId) => $"identity:{{{learnerId}}}:photo:{photoId}";

    /// <summary>String: the serialized first response of a mutating call, TTL = the idempotency window.</summary>
    public static string Idempotency(string learnerId, string method, string requestId) => $"identity:{{{learnerId}}}:idem:{method}:{requestId}";

    /// <summary>
    /// String "learnerId|claimedAtUnixMs": who owns a mailbox. Keyed by the SHA-256 of the canonical address
    /// (no address in key names; braces in an address cannot pick a hash tag). Its own slot: see docs/identity.md.
    /// </summary>
    public static string Email(string canonicalEmail) =>
        $"identity:email:{{{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalEmail)))}}}";

    /// <summary>String (JSON): an exam's verification requirements (course, room scan). No TTL.</summary>
    public static string Exam(string examId) => $"identity:exam:{{{examId}}}";
}
