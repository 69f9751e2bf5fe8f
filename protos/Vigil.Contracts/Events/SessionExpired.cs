using MassTransit;

namespace Vigil.Contracts.Events;

/// <summary>
/// A session's deadline passed without a final check and its answers were not submitted: the
/// dashboard shows that the exam was not submitted. Published through the session service's outbox.
/// </summary>
[MessageUrn(EventTopology.UrnPrefix + "SessionExpired")]
[EntityName(EventTopology.SessionExpiredExchange)]
public sealed record SessionExpired
{
    /// <summary>Unique id of this event (the outbox entry).</summary>
    public required Guid EventId { get; init; }
    /// <summary>The session.</summary>
    public required string SessionId { get; init; }
    /// <summary>The exam.</summary>
    public required string ExamId { get; init; }
    /// <summary>The exam's course.</summary>
    public required string CourseId { get; init; }
    /// <summary>The learner.</summary>
    public required string LearnerId { get; init; }
    /// <summary>The exam's title.</summary>
    public required string ExamTitle { get; init; }
    /// <summary>When the deadline passed.</summary>
    public required DateTimeOffset ExpiredAt { get; init; }
    /// <summary>How many answers were saved but never validated.</summary>
    public required int UnvalidatedAnswers { get; init; }
}
