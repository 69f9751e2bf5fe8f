using System.Security.Cryptography;
using System.Text;

namespace Vigil.ServiceDefaults.Storage;

/// <summary>
/// What Vigil keeps of a learner once their data is erased, where it must recognise them again: a digest of their id
/// (SHA-256 of <c>vigil-erasure\n</c> + the id, hex), never the id. The session service's completed erasure request
/// keeps it (the same request id for the same learner; an operator who is given the id can confirm the erasure); the
/// certificate service keys its erased-learner tombstone by it (docs/privacy.md).
/// </summary>
public static class ErasureDigest
{
    /// <summary>The digest of a learner id.</summary>
    public static string Of(string learnerId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("vigil-erasure\n" + learnerId)));
}
