using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Certificate.Store;
using Vigil.Contracts.Certificate.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.ServiceDefaults.Health;

namespace Vigil.Certificate.Dashboard;

/// <summary>
/// The learner's dashboard, the one place a result appears (nothing is ever emailed). A learner sees only
/// their own; services and ops may name a learner.
/// </summary>
internal sealed partial class DashboardGrpcService(
    CertificateStore store,
    DrainState drain,
    ILogger<DashboardGrpcService> logger) : DashboardService.DashboardServiceBase
{
    public override async Task<GetDashboardResponse> GetDashboard(GetDashboardRequest request, ServerCallContext context)
    {
        var learnerId = Resolve(request.LearnerId, context, LearnerDataReaders.Services | LearnerDataReaders.Ops);
        var response = new GetDashboardResponse { LearnerId = learnerId };
        var erased = store.GetLearnerErasureAsync(learnerId);
        var records = await store.GetLearnerSessionsAsync(learnerId);
        response.Entries.AddRange(DashboardEntries.NewestFirst(records).Select(DashboardEntries.ToEntry));
        if (await erased is { } e) response.DataErasedAt = Timestamp.FromDateTimeOffset(e.ErasedAt);
        return response;
    }

    /// <summary>
    /// Subscribes to the learner's Redis channel FIRST, then sends the snapshot, then every change (whichever
    /// replica applied it). A change racing the snapshot may be sent twice: entries are whole, so that is harmless.
    /// On shutdown the stream ends with Unavailable so the client reconnects to another replica.
    /// </summary>
    public override async Task WatchDashboard(WatchDashboardRequest request, IServerStreamWriter<WatchDashboardResponse> responseStream, ServerCallContext context)
    {
        var learnerId = Resolve(request.LearnerId, context, LearnerDataReaders.Services | LearnerDataReaders.Ops);
        var changes = Channel.CreateBounded<string>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest });
        await using var watch = await store.WatchLearnerAsync(learnerId, sessionId => changes.Writer.TryWrite(sessionId));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, drain.StreamsMustMove);
        try
        {
            // Headers now: a client waiting for them must not hang when the dashboard is still empty.
            await context.WriteResponseHeadersAsync([]);
            foreach (var record in DashboardEntries.NewestFirst(await store.GetLearnerSessionsAsync(learnerId)))
            {
                await responseStream.WriteAsync(new WatchDashboardResponse { Entry = DashboardEntries.ToEntry(record), Snapshot = true }, cts.Token);
            }
            await foreach (var sessionId in changes.Reader.ReadAllAsync(cts.Token))
            {
                var record = await store.GetAsync(sessionId);
                if (record is null || record.LearnerId != learnerId || !record.HasProjection) continue;
                await responseStream.WriteAsync(new WatchDashboardResponse { Entry = DashboardEntries.ToEntry(record), Snapshot = false }, cts.Token);
            }
        }
        catch (OperationCanceledException) when (drain.StreamsMustMove.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            LogMoved(logger);
            throw new ServiceUnavailableException("This instance is shutting down; reconnect to watch the dashboard.");
        }
    }

    /// <summary>
    /// Retired: erasing the dashboard alone left the other services holding the learner. The caller is still checked
    /// first (as before: the learner themselves or ops); then FailedPrecondition names the one way: ErasureService.
    /// </summary>
    [Obsolete("Retired: a learner's data is erased through vigil.session.v1.ErasureService.")]
    public override Task<EraseLearnerDataResponse> EraseLearnerData(EraseLearnerDataRequest request, ServerCallContext context)
    {
        Resolve(request.LearnerId, context, LearnerDataReaders.Ops);
        throw new PreconditionFailedException("ERASURE_BY_REQUEST", "vigil.session.v1.ErasureService/StartErasure",
            "A learner's data is erased in every Vigil service at once, never here alone: platform operations start it with ErasureService.StartErasure (docs/privacy.md).");
    }

    /// <summary>The learner whose dashboard this is: the learner themselves, or whom <paramref name="alsoBy"/> lets name them.</summary>
    private static string Resolve(string requested, ServerCallContext context, LearnerDataReaders alsoBy)
    {
        var caller = Caller.From(context);
        if (requested.Length > 200 || requested.Contains('{') || requested.Contains('}'))
        {
            throw new InvalidRequestException("learner_id", "Not a learner id.");
        }
        return caller.LearnerData(requested, alsoBy);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard stream told to reconnect elsewhere (shutting down)")]
    private static partial void LogMoved(ILogger logger);
}
