using System.ComponentModel.DataAnnotations;

namespace Vigil.Identity.Grpc;

/// <summary>General identity-service settings, bound from the "Identity" section.</summary>
internal sealed class IdentityOptions
{
    public const string Section = "Identity";

    /// <summary>How long a mutating call's first answer is kept for retries with the same request_id. Default 24 h.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How old a mailbox claim must be before it may be taken over when its learner does not hold the address
    /// (a registration that crashed half-way, or an erasure interrupted before releasing it). Default 1 minute.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan EmailClaimGrace { get; set; } = TimeSpan.FromMinutes(1);
}
