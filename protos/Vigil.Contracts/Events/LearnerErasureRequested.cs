using MassTransit;

namespace Vigil.Contracts.Events;

/// <summary>
/// Operations asked to erase a learner's data (the right to erasure). Published by the session service, which owns
/// the request (<c>vigil.session.v1.ErasureService</c>), through its outbox in the same atomic step as the request is
/// recorded; consumed by the identity, session and certificate services, each of which erases what it holds and
/// answers with <see cref="LearnerErasureCompleted"/>. At least once: consumers erase idempotently.
/// </summary>
[MessageUrn(EventTopology.UrnPrefix + "LearnerErasureRequested")]
[EntityName(EventTopology.LearnerErasureRequestedExchange)]
public sealed record LearnerErasureRequested
{
    /// <summary>Unique id of this event (the outbox entry); a re-sent request gets a new one.</summary>
    public required Guid EventId { get; init; }
    /// <summary>The erasure request's id.</summary>
    public required string RequestId { get; init; }
    /// <summary>The learner to erase.</summary>
    public required string LearnerId { get; init; }
    /// <summary>
    /// When the request was recorded. Facts about the learner from before it (a submission, a decision) that arrive
    /// later, redelivered or replayed, must not bring anything back.
    /// </summary>
    public required DateTimeOffset RequestedAt { get; init; }
}
