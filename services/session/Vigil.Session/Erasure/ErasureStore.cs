using System.Globalization;
using StackExchange.Redis;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Outbox;
using Vigil.Session.Storage;

namespace Vigil.Session.Erasure;

/// <summary>One service's part of an erasure request: done when it reported, with what it erased.</summary>
internal sealed record ServicePart(string Service, DateTimeOffset? CompletedAt, int RecordsErased);

/// <summary>An erasure request as stored: the learner while pending (the digest stays after), who asked and when, each service's part.</summary>
internal sealed record ErasureRecord(
    string RequestId, string? LearnerId, string LearnerDigest, DateTimeOffset RequestedAt, string RequestedBy, string Reference,
    bool Complete, DateTimeOffset? CompletedAt, IReadOnlyList<ServicePart> Services);

/// <summary>What recording a request did.</summary>
internal enum StartStatus
{
    /// <summary>Recorded now, with its event in the outbox.</summary>
    Started,
    /// <summary>It was pending: its event is in the outbox again.</summary>
    Resent,
    /// <summary>It was complete: nothing to send.</summary>
    AlreadyComplete,
    /// <summary>The request id names the erasure of another learner.</summary>
    OtherLearner,
}

/// <summary>What recording a service's report did.</summary>
internal enum ReportStatus
{
    /// <summary>Recorded; other services have not reported yet.</summary>
    Recorded,
    /// <summary>A later report of a service that had reported (another delivery of the request): its count added.</summary>
    Added,
    /// <summary>This very report again (a redelivery): nothing changed.</summary>
    Duplicate,
    /// <summary>Recorded, and it was the last: the request is complete.</summary>
    Completed,
    /// <summary>No such request (expired, or never recorded here).</summary>
    Unknown,
}

/// <summary>
/// Erasure requests in Redis (docs/privacy.md): the request hash and its outbox share the request's hash tag, so the
/// request and its <see cref="LearnerErasureRequested"/> event are written in one step; the outbox is relayed by the
/// session's <see cref="OutboxRelay"/> (its pending-index member is <c>erasure/&lt;requestId&gt;</c>).
/// </summary>
internal sealed class ErasureStore(RedisStorage storage, SessionKeys keys, OutboxSignal signal)
{
    private static readonly RedisScript StartScript = RedisScript.Load<ErasureStore>("StartErasure");
    private static readonly RedisScript ReportScript = RedisScript.Load<ErasureStore>("RecordErasureReport");

    /// <summary>
    /// The pseudonymous digest a request keeps of its learner once complete (<see cref="ErasureDigest"/>): enough to
    /// recognise the same request id for the same learner, and for an operator who is given the id to confirm it was
    /// erased; not the id.
    /// </summary>
    public static string Digest(string learnerId) => ErasureDigest.Of(learnerId);

    /// <summary>A request, or null.</summary>
    public async Task<ErasureRecord?> GetAsync(string requestId)
    {
        var h = (await storage.Database.HashGetAllAsync(keys.ErasureRequest(requestId).Request)).ToDictionary(e => e.Name.ToString(), e => e.Value);
        if (!h.TryGetValue("learner_digest", out var digest)) return null;
        string Text(string name) => h.TryGetValue(name, out var v) ? v.ToString() : string.Empty;
        DateTimeOffset? At(string name) =>
            h.TryGetValue(name, out var v) && long.TryParse(v.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
        var parts = ErasureServices.All
            .Select(s => new ServicePart(s, At(s + "_at"), int.TryParse(Text(s + "_records"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0))
            .ToList();
        return new ErasureRecord(
            requestId,
            h.TryGetValue("learner_id", out var learner) ? learner.ToString() : null,
            digest.ToString(),
            At("requested_at") ?? DateTimeOffset.UnixEpoch,
            Text("requested_by"),
            Text("reference"),
            Text("state") == "complete",
            At("completed_at"),
            parts);
    }

    /// <summary>
    /// Records a request with its event (or writes the event again while the request is pending), in one step, the
    /// pending index announced before and after (as a session's outbox); this replica's relay takes it at once.
    /// </summary>
    public async Task<StartStatus> StartAsync(ErasureRecord request, LearnerErasureRequested evt, DateTimeOffset now)
    {
        var k = keys.ErasureRequest(request.RequestId);
        var member = SessionKeys.ErasureOutboxMember(request.RequestId);
        await AnnounceAsync(member, now);
        var reply = (await storage.WriteAsync(k.Request, StartScript, new
        {
            request = k.Request,
            outbox = k.Outbox,
            learnerId = request.LearnerId ?? string.Empty,
            learnerDigest = request.LearnerDigest,
            requestedAt = request.RequestedAt.ToUnixTimeMilliseconds(),
            requestedBy = request.RequestedBy,
            reference = request.Reference,
            @event = OutboxEntry.Serialize(evt),
        })).ToString();
        var status = reply switch
        {
            "started" => StartStatus.Started,
            "resent" => StartStatus.Resent,
            "complete" => StartStatus.AlreadyComplete,
            "other" => StartStatus.OtherLearner,
            var other => throw new InvalidOperationException($"The {StartScript.Name} script replied '{other}', which this version does not know."),
        };
        if (status is StartStatus.Started or StartStatus.Resent)
        {
            signal.Notify(member);
            await AnnounceAsync(member, now);
        }
        return status;
    }

    /// <summary>
    /// Records a service's report (<paramref name="reportId"/>: its event id, counted once); the first of each service
    /// marks it complete, the last service's completes the request, which is then kept for <paramref name="keep"/>.
    /// </summary>
    public async Task<ReportStatus> RecordReportAsync(string requestId, Guid reportId, string service, int recordsErased, DateTimeOffset completedAt, TimeSpan keep)
    {
        var k = keys.ErasureRequest(requestId);
        var reply = (await storage.WriteAsync(k.Request, ReportScript, new
        {
            request = k.Request,
            outbox = k.Outbox,
            eventId = reportId.ToString("N"),
            service,
            records = recordsErased,
            completedAt = completedAt.ToUnixTimeMilliseconds(),
            services = string.Join(',', ErasureServices.All),
            keepMs = (long)keep.TotalMilliseconds,
        })).ToString();
        return reply switch
        {
            "recorded" => ReportStatus.Recorded,
            "added" => ReportStatus.Added,
            "duplicate" => ReportStatus.Duplicate,
            "completed" => ReportStatus.Completed,
            "unknown" => ReportStatus.Unknown,
            var other => throw new InvalidOperationException($"The {ReportScript.Name} script replied '{other}', which this version does not know."),
        };
    }

    private Task AnnounceAsync(string member, DateTimeOffset now) =>
        storage.WriteAsync(keys.OutboxPending, (db, k) => db.SortedSetAddAsync(k, member, now.ToUnixTimeMilliseconds()));
}
