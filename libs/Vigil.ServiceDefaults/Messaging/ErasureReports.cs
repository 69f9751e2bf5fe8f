using MassTransit;
using Vigil.Contracts.Events;

namespace Vigil.ServiceDefaults.Messaging;

/// <summary>
/// What every service's part of an erasure request shares (docs/privacy.md): the request's shape, checked before
/// anything is erased, and the report each service publishes once its erasure is durable.
/// </summary>
public static class ErasureReports
{
    /// <summary>The message every consumer refuses (to the error queue) when <see cref="IsWellFormed"/> is false.</summary>
    public const string Malformed = "LearnerErasureRequested needs an EventId, a RequestId and a LearnerId.";

    /// <summary>Whether an erasure request can be applied: an event id, a request id and a learner id of the right shapes.</summary>
    public static bool IsWellFormed(LearnerErasureRequested m) =>
        m.EventId != Guid.Empty && EventChecks.IsRequestId(m.RequestId) && EventChecks.IsRecordId(m.LearnerId);

    /// <summary>
    /// Publishes this service's <see cref="LearnerErasureCompleted"/> for the request being consumed. Called before the
    /// request's message is acknowledged: a crash in between erases again (nothing left) and reports again.
    /// </summary>
    public static Task ReportErasureAsync(this ConsumeContext<LearnerErasureRequested> context, string service, int recordsErased, DateTimeOffset completedAt) =>
        context.Publish(new LearnerErasureCompleted
        {
            EventId = Guid.NewGuid(),
            RequestId = context.Message.RequestId,
            Service = service,
            RecordsErased = recordsErased,
            CompletedAt = completedAt,
        }, context.CancellationToken);
}
