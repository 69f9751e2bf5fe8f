using MassTransit;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Events;
using Vigil.Identity.Erasure;
using Vigil.Identity.Photos;
using Vigil.Identity.Storage;
using Vigil.ServiceDefaults.Messaging;

namespace Vigil.Identity.Retention;

/// <summary>
/// Photos are kept until the board's decision plus the appeal window (queue <c>identity-board-decision-recorded</c>):
/// a decision moves the expiry of the exam's verification and photos to <c>DecidedAt + Photos:AppealWindow</c>,
/// sooner or later than the retention they were written with. Idempotent and order-safe (an older decision never
/// moves it back); a decision on photos already gone changes nothing.
/// </summary>
internal sealed partial class PhotoRetentionConsumer(
    IdentityStore store,
    IOptions<PhotoOptions> options,
    ILogger<PhotoRetentionConsumer> logger) : IConsumer<BoardDecisionRecorded>
{
    public async Task Consume(ConsumeContext<BoardDecisionRecorded> context)
    {
        var m = context.Message;
        if (m.EventId == Guid.Empty || !EventChecks.IsRecordId(m.LearnerId) || !EventChecks.IsRecordId(m.ExamId))
        {
            throw new InvalidEventException("BoardDecisionRecorded needs an EventId, a LearnerId and an ExamId.");
        }
        var until = m.DecidedAt + options.Value.AppealWindow;
        var moved = await store.ExpireAfterDecisionAsync(m.LearnerId, m.ExamId, until);
        LogMoved(logger, m.SessionId, moved, until);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Decision on session {SessionId}: {Photos} photos now expire at {Until}")]
    private static partial void LogMoved(ILogger logger, string sessionId, int photos, DateTimeOffset until);
}
