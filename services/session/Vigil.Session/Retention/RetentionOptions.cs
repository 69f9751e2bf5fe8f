using System.ComponentModel.DataAnnotations;

namespace Vigil.Session.Retention;

/// <summary>How long the session service keeps what it holds (docs/privacy.md), bound from the "Retention" section.</summary>
internal sealed class RetentionOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Retention";

    /// <summary>
    /// How long a session (its answers, incidents, receipt and decisions) is kept after its deadline: the exam board's
    /// review and the learner's questions about their exam happen within it.
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan Sessions { get; set; } = TimeSpan.FromDays(365);

    /// <summary>
    /// The least a session is kept after the board's latest decision: the appeal window (60 days) and a margin. A
    /// decision late in <see cref="Sessions"/> extends the session's retention; an early one does not shorten it.
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan AfterDecision { get; set; } = TimeSpan.FromDays(90);

    /// <summary>
    /// How long a completed erasure request (its id, the learner's digest, who asked and when, what each service
    /// erased; no learner id) is kept: the proof that the erasure was carried out (GDPR art. 5(2)).
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan ErasureRequests { get; set; } = TimeSpan.FromDays(3 * 365);

    /// <summary>How often each replica looks for sessions whose retention ended.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>When a session's retention ends: <see cref="Sessions"/> after its deadline, at least <see cref="AfterDecision"/> after its latest decision.</summary>
    public DateTimeOffset EndOf(DateTimeOffset deadline, DateTimeOffset? lastDecidedAt)
    {
        var end = deadline + Sessions;
        return lastDecidedAt is { } decided && decided + AfterDecision > end ? decided + AfterDecision : end;
    }
}
