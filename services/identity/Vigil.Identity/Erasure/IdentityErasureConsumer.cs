using MassTransit;
using Vigil.Contracts.Events;
using Vigil.Identity.Storage;
using Vigil.ServiceDefaults.Messaging;
using Vigil.ServiceDefaults.Telemetry;

namespace Vigil.Identity.Erasure;

/// <summary>A message that can never be applied: it goes to the error queue after the retries.</summary>
internal sealed class InvalidEventException(string message) : Exception(message);

/// <summary>
/// The identity service's part of an erasure request (queue <c>identity-learner-erasure-requested</c>): every key of the
/// learner (record, verification records, photos, idempotent replies, the index) in one atomic step, then the mailbox.
/// The report is published before the message is acknowledged: a crash erases again (nothing left) and reports again.
/// </summary>
internal sealed partial class IdentityErasureConsumer(
    IdentityStore store,
    PrivacyMetrics metrics,
    TimeProvider time,
    ILogger<IdentityErasureConsumer> logger) : IConsumer<LearnerErasureRequested>
{
    public async Task Consume(ConsumeContext<LearnerErasureRequested> context)
    {
        var m = context.Message;
        if (!ErasureReports.IsWellFormed(m)) throw new InvalidEventException(ErasureReports.Malformed);
        var counts = await store.EraseAsync(m.LearnerId);
        metrics.Erased("photos", counts.Photos);
        metrics.Erased("verifications", counts.Verifications);
        metrics.Erased("learners", counts.Learner ? 1 : 0);
        LogErased(logger, m.RequestId, counts.Photos, counts.Verifications, counts.Learner);
        await context.ReportErasureAsync(ErasureServices.Identity, counts.Photos + counts.Verifications + (counts.Learner ? 1 : 0), time.GetUtcNow());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure request {RequestId}: {Photos} photos, {Verifications} verifications, learner record {LearnerErased}")]
    private static partial void LogErased(ILogger logger, string requestId, int photos, int verifications, bool learnerErased);
}
