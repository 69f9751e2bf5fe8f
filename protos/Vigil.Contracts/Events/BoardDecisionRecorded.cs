using MassTransit;

namespace Vigil.Contracts.Events;

/// <summary>
/// The exam board recorded a decision on a session. Decisions carry a version per session: the highest
/// is in force, and an older one never overrides a newer one, whatever order they arrive in.
/// Published through the session service's outbox.
/// </summary>
[MessageUrn(EventTopology.UrnPrefix + "BoardDecisionRecorded")]
[EntityName(EventTopology.BoardDecisionRecordedExchange)]
public sealed record BoardDecisionRecorded
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
    /// <summary>The decision's version within the session: 1, 2, ….</summary>
    public required long Version { get; init; }
    /// <summary>The verdict.</summary>
    public required DecisionOutcome Outcome { get; init; }
    /// <summary>The reason's code for a refusal or withdrawal (the contract's RefusalReason value name), empty when valid.</summary>
    public required string ReasonCode { get; init; }
    /// <summary>The reason, as the learner reads it.</summary>
    public required string ReasonText { get; init; }
    /// <summary>Who decided (the board member's id).</summary>
    public required string DecidedBy { get; init; }
    /// <summary>When.</summary>
    public required DateTimeOffset DecidedAt { get; init; }
}

/// <summary>The board's verdict.</summary>
public enum DecisionOutcome
{
    /// <summary>The session is valid.</summary>
    Valid = 1,
    /// <summary>The certificate is refused.</summary>
    Refused = 2,
    /// <summary>A granted certificate is withdrawn.</summary>
    Withdrawn = 3,
}
