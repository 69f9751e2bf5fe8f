using MassTransit;

namespace Vigil.Contracts.Events;

/// <summary>
/// A session's answers were submitted for good: by the learner's final check, by the exam's deadline
/// policy, or by the exam board's exception. Published by the session service through its outbox;
/// consumed by the certificate service. At least once: consumers dedupe on <see cref="EventId"/> and
/// on the session.
/// </summary>
[MessageUrn(EventTopology.UrnPrefix + "SessionSubmitted")]
[EntityName(EventTopology.SessionSubmittedExchange)]
public sealed record SessionSubmitted
{
    /// <summary>Unique id of this event (the outbox entry); the same on every redelivery.</summary>
    public required Guid EventId { get; init; }
    /// <summary>The session.</summary>
    public required string SessionId { get; init; }
    /// <summary>The exam.</summary>
    public required string ExamId { get; init; }
    /// <summary>The exam's course.</summary>
    public required string CourseId { get; init; }
    /// <summary>The learner.</summary>
    public required string LearnerId { get; init; }
    /// <summary>The learner's name as registered with identity (never the token's), for the certificate.</summary>
    public required string LearnerName { get; init; }
    /// <summary>The learner's email as registered with identity when the session started (empty from older publishers).</summary>
    public string LearnerEmail { get; init; } = string.Empty;
    /// <summary>The exam's title.</summary>
    public required string ExamTitle { get; init; }
    /// <summary>How the answers were submitted.</summary>
    public required SubmissionKind Kind { get; init; }
    /// <summary>When they were submitted.</summary>
    public required DateTimeOffset SubmittedAt { get; init; }
    /// <summary>The score of the submitted answers.</summary>
    public required double Score { get; init; }
    /// <summary>The maximum score.</summary>
    public required double MaxScore { get; init; }
    /// <summary>The points needed to pass.</summary>
    public required double PassMark { get; init; }
    /// <summary>Whether an ID-document photo was accepted at verification; without one the exam is invalid.</summary>
    public required bool IdDocumentPhotoAccepted { get; init; }
    /// <summary>The receipt's digest (hex SHA-256).</summary>
    public required string ReceiptDigest { get; init; }
}

/// <summary>How a session's answers were submitted.</summary>
public enum SubmissionKind
{
    /// <summary>The learner's final check.</summary>
    FinalCheck = 1,
    /// <summary>The deadline, under an exam policy that submits saved answers.</summary>
    DeadlinePolicy = 2,
    /// <summary>The exam board's exception for a documented technical failure.</summary>
    BoardException = 3,
}
