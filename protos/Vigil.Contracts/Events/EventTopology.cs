namespace Vigil.Contracts.Events;

/// <summary>
/// The RabbitMQ names of Vigil's events: the exchange each event is published to, and the queues
/// of their consumers. Fixed here so that publishers can declare the consumers' queues and bindings
/// before the first publish (RabbitMQ drops a message published to an exchange with no queue bound),
/// even when the consuming service has never run.
/// </summary>
public static class EventTopology
{
    /// <summary>Prefix of every event's message URN (after MassTransit's own "urn:message:").</summary>
    public const string UrnPrefix = "vigil.events.v1:";

    /// <summary>Exchange of <see cref="SessionSubmitted"/>.</summary>
    public const string SessionSubmittedExchange = "vigil.events.v1.session-submitted";
    /// <summary>Exchange of <see cref="SessionExpired"/>.</summary>
    public const string SessionExpiredExchange = "vigil.events.v1.session-expired";
    /// <summary>Exchange of <see cref="BoardDecisionRecorded"/>.</summary>
    public const string BoardDecisionRecordedExchange = "vigil.events.v1.board-decision-recorded";
    /// <summary>Exchange of <see cref="LearnerErasureRequested"/>.</summary>
    public const string LearnerErasureRequestedExchange = "vigil.events.v1.learner-erasure-requested";
    /// <summary>Exchange of <see cref="LearnerErasureCompleted"/>.</summary>
    public const string LearnerErasureCompletedExchange = "vigil.events.v1.learner-erasure-completed";

    /// <summary>The certificate service's queue for submitted sessions.</summary>
    public const string CertificateSessionSubmittedQueue = "certificate-session-submitted";
    /// <summary>The certificate service's queue for expired sessions.</summary>
    public const string CertificateSessionExpiredQueue = "certificate-session-expired";
    /// <summary>The certificate service's queue for board decisions.</summary>
    public const string CertificateBoardDecisionRecordedQueue = "certificate-board-decision-recorded";
    /// <summary>The certificate service's queue for erasure requests.</summary>
    public const string CertificateLearnerErasureRequestedQueue = "certificate-learner-erasure-requested";
    /// <summary>The identity service's queue for erasure requests.</summary>
    public const string IdentityLearnerErasureRequestedQueue = "identity-learner-erasure-requested";
    /// <summary>The identity service's queue for board decisions (a decision starts the photos' appeal window).</summary>
    public const string IdentityBoardDecisionRecordedQueue = "identity-board-decision-recorded";
    /// <summary>The session service's queue for erasure requests.</summary>
    public const string SessionLearnerErasureRequestedQueue = "session-learner-erasure-requested";
    /// <summary>The session service's queue for the services' erasure reports (it owns the requests).</summary>
    public const string SessionLearnerErasureCompletedQueue = "session-learner-erasure-completed";

    /// <summary>Every consumer queue with the exchange it is bound to.</summary>
    public static IReadOnlyList<(string Queue, string Exchange, Type Message)> ConsumerQueues { get; } =
    [
        (CertificateSessionSubmittedQueue, SessionSubmittedExchange, typeof(SessionSubmitted)),
        (CertificateSessionExpiredQueue, SessionExpiredExchange, typeof(SessionExpired)),
        (CertificateBoardDecisionRecordedQueue, BoardDecisionRecordedExchange, typeof(BoardDecisionRecorded)),
        (CertificateLearnerErasureRequestedQueue, LearnerErasureRequestedExchange, typeof(LearnerErasureRequested)),
        (IdentityLearnerErasureRequestedQueue, LearnerErasureRequestedExchange, typeof(LearnerErasureRequested)),
        (IdentityBoardDecisionRecordedQueue, BoardDecisionRecordedExchange, typeof(BoardDecisionRecorded)),
        (SessionLearnerErasureRequestedQueue, LearnerErasureRequestedExchange, typeof(LearnerErasureRequested)),
        (SessionLearnerErasureCompletedQueue, LearnerErasureCompletedExchange, typeof(LearnerErasureCompleted)),
    ];
}
