using MassTransit;
using Vigil.Certificate.Consumers;
using Vigil.Certificate.Store;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Messaging;
using Vigil.ServiceDefaults.Telemetry;

namespace Vigil.Certificate.Erasure;

/// <summary>
/// The certificate service's part of an erasure request (queue <c>certificate-learner-erasure-requested</c>): first the
/// learner's tombstone (by digest, with the request's time: facts from before it that arrive later are ignored), then
/// each dashboard entry becomes a session tombstone and each certificate's code verifies as withdrawn for erasure, then
/// the dashboard index goes. The report is published before the message is acknowledged: a crash erases again
/// (nothing left) and reports again.
/// </summary>
internal sealed partial class CertificateErasureConsumer(
    CertificateStore store,
    PrivacyMetrics metrics,
    TimeProvider time,
    ILogger<CertificateErasureConsumer> logger) : IConsumer<LearnerErasureRequested>
{
    public async Task Consume(ConsumeContext<LearnerErasureRequested> context)
    {
        var m = context.Message;
        EventValidation.Require(ErasureReports.IsWellFormed(m), ErasureReports.Malformed);
        var now = time.GetUtcNow();
        await store.MarkLearnerErasedAsync(m.LearnerId, m.RequestedAt, now);
        var erased = await store.EraseLearnerAsync(m.LearnerId, m.RequestedAt, now);
        metrics.Erased("dashboard_entries", erased.Entries);
        metrics.Erased("certificates", erased.Certificates);
        LogErased(logger, m.RequestId, erased.Entries, erased.Certificates);
        await context.ReportErasureAsync(ErasureServices.Certificate, erased.Entries, now);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure request {RequestId}: {Entries} dashboard entries erased, {Certificates} certificates now verify as withdrawn")]
    private static partial void LogErased(ILogger logger, string requestId, int entries, int certificates);
}
