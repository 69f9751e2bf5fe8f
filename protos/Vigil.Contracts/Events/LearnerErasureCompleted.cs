using MassTransit;

namespace Vigil.Contracts.Events;

/// <summary>
/// One service erased everything it held of a learner for an erasure request. Published by each of the identity,
/// session and certificate services once its erasure is durable (before the request's message is acknowledged, so a
/// crash in between erases again, a no-op, and reports again); consumed by the session service, which owns the
/// request. Carries no learner id.
/// </summary>
[MessageUrn(EventTopology.UrnPrefix + "LearnerErasureCompleted")]
[EntityName(EventTopology.LearnerErasureCompletedExchange)]
public sealed record LearnerErasureCompleted
{
    /// <summary>Unique id of this event.</summary>
    public required Guid EventId { get; init; }
    /// <summary>The erasure request's id.</summary>
    public required string RequestId { get; init; }
    /// <summary>The service that completed: one of <see cref="ErasureServices.All"/>.</summary>
    public required string Service { get; init; }
    /// <summary>
    /// What it erased: identity the learner record, verification records and photos; session the sessions;
    /// certificate the dashboard entries (each with its certificate). Zero when there was nothing (left).
    /// </summary>
    public required int RecordsErased { get; init; }
    /// <summary>When the erasure was done.</summary>
    public required DateTimeOffset CompletedAt { get; init; }
}

/// <summary>The services an erasure request reaches, by the names they report with.</summary>
public static class ErasureServices
{
    /// <summary>The identity service (learner record, verification records, photos).</summary>
    public const string Identity = "identity";
    /// <summary>The session service (sessions, answers, incidents, receipts, decisions' personal parts).</summary>
    public const string Session = "session";
    /// <summary>The certificate service (results, dashboard entries, certificates).</summary>
    public const string Certificate = "certificate";

    /// <summary>Every service an erasure must reach, in the order they are shown.</summary>
    public static IReadOnlyList<string> All { get; } = [Identity, Session, Certificate];
}
