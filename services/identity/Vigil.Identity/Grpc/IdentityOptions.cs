namespace Vigil.Identity.Grpc;

/// <summary>General identity-service settings, bound from the "Identity" section.</summary>
internal sealed class IdentityOptions
{
    public const string Section = "Identity";

    /// <summary>How long a mutating call's first answer is kept for retries with the same request_id. Default 24 h.</summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How old a mailbox claim must be before it may be taken over when its learner does not hold the address
    /// (a registration that crashed half-way, or an erasure interrupted before releasing it). Default 1 minute.
    /// </summary>
    public TimeSpan EmailClaimGrace { get; set; } = TimeSpan.FromMinutes(1);
}
