using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.ServiceDefaults.Messaging;
using Vigil.Session.Storage;
using Events = Vigil.Contracts.Events;

namespace Vigil.Session.Erasure;

/// <summary>
/// ErasureService (role ops): one erasure request for a learner, recorded with its event in one step and sent to every
/// service; refused while a session of the learner is in progress or awaits the board's decision. docs/privacy.md.
/// </summary>
internal sealed partial class ErasureGrpcService(
    SessionStore sessions,
    ErasureStore erasures,
    TimeProvider time,
    ILogger<ErasureGrpcService> logger) : ErasureService.ErasureServiceBase
{
    public override async Task<StartErasureResponse> StartErasure(StartErasureRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        caller.RequireOps();
        var violations = new List<(string, string)>();
        if (!ErasureIds.IsValidRequestId(request.RequestId)) violations.Add(("request_id", "A request_id of 1-128 characters (letters, digits, '-', '_', '.', ':') is required, the same on every retry."));
        if (!ErasureIds.IsValidLearnerId(request.LearnerId)) violations.Add(("learner_id", "The learner's id is required (at most 200 characters, no braces, spaces or control characters)."));
        if (request.Reference.Length > 200 || request.Reference.Any(char.IsControl)) violations.Add(("reference", "At most 200 characters, without control characters."));
        if (violations.Count > 0) throw new InvalidRequestException(violations);

        var digest = ErasureStore.Digest(request.LearnerId);
        var existing = await erasures.GetAsync(request.RequestId);
        if (existing is not null && existing.LearnerDigest != digest) throw OtherLearner(request.RequestId);
        if (existing is { Complete: true }) return new StartErasureResponse { Erasure = ToProto(existing) };

        var now = time.GetUtcNow();
        var record = existing ?? new ErasureRecord(request.RequestId, request.LearnerId, digest, DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds()),
            caller.Subject, request.Reference, false, null, []);
        if (existing is null)
        {
            // Never half-erased: the board still needs the evidence of a session in progress or awaiting its decision.
            var blockers = await BlockersAsync(request.LearnerId);
            if (blockers.Count > 0)
            {
                LogRefused(logger, request.RequestId, blockers.Count);
                throw new PreconditionFailedException(
                    "The learner has sessions the exam board still needs (in progress, or awaiting its decision): start the erasure once the board has decided. The sessions are named in the details.",
                    blockers);
            }
        }
        var evt = new Events.LearnerErasureRequested
        {
            EventId = Guid.NewGuid(),
            RequestId = record.RequestId,
            LearnerId = request.LearnerId,
            RequestedAt = record.RequestedAt,
        };
        switch (await erasures.StartAsync(record with { LearnerId = request.LearnerId }, evt, now))
        {
            case StartStatus.OtherLearner:
                throw OtherLearner(request.RequestId);
            case StartStatus.Started:
                LogStarted(logger, request.RequestId, caller.Subject);
                break;
            case StartStatus.Resent:
                LogResent(logger, request.RequestId);
                break;
        }
        var stored = await erasures.GetAsync(request.RequestId) ?? throw new ServiceUnavailableException("The erasure request was recorded but could not be read back; retry with the same request_id.");
        return new StartErasureResponse { Erasure = ToProto(stored) };
    }

    public override async Task<GetErasureResponse> GetErasure(GetErasureRequest request, ServerCallContext context)
    {
        Caller.From(context).RequireOps();
        if (!ErasureIds.IsValidRequestId(request.RequestId)) throw new InvalidRequestException("request_id", "The request's id: 1-128 characters (letters, digits, '-', '_', '.', ':').");
        var stored = await erasures.GetAsync(request.RequestId) ?? throw new ResourceNotFoundException("erasure", request.RequestId);
        return new GetErasureResponse { Erasure = ToProto(stored) };
    }

    /// <summary>The learner's sessions in the way of an erasure: in progress, or finished with answers the board has not decided on.</summary>
    private async Task<List<(string Type, string Subject, string Description)>> BlockersAsync(string learnerId)
    {
        var blockers = new List<(string, string, string)>();
        foreach (var id in await sessions.GetLearnerSessionIdsAsync(learnerId))
        {
            if (await sessions.GetAsync(id) is not { } s || s.LearnerId != learnerId) continue;
            if (s.State == SessionState.InProgress)
            {
                blockers.Add(("SESSION_IN_PROGRESS", "sessions/" + id, $"Session {id} is in progress: its exam must end and the board decide first."));
            }
            else if (AwaitsDecision(s))
            {
                blockers.Add(("BOARD_DECISION_PENDING", "sessions/" + id, $"Session {id} awaits the exam board's decision, which needs its evidence: erase after the decision."));
            }
        }
        return blockers;
    }

    /// <summary>Submitted answers without a decision: the board has not decided yet. An expired, unsubmitted session has nothing to decide.</summary>
    internal static bool AwaitsDecision(SessionData s) =>
        s.DecisionVersion == 0 && s.State is SessionState.Submitted or SessionState.ExpiredSubmitted or SessionState.SubmittedByException;

    private static AlreadyExistsException OtherLearner(string requestId) =>
        new("erasure", requestId, "This request_id already names the erasure of another learner: choose a new request_id.");

    internal static Contracts.Session.V1.Erasure ToProto(ErasureRecord r)
    {
        var erasure = new Contracts.Session.V1.Erasure
        {
            RequestId = r.RequestId,
            LearnerId = r.Complete ? string.Empty : r.LearnerId ?? string.Empty,
            State = r.Complete ? ErasureState.Complete : ErasureState.Pending,
            RequestedAt = Timestamp.FromDateTimeOffset(r.RequestedAt),
            RequestedBy = r.RequestedBy,
            CompletedAt = r.CompletedAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
            Reference = r.Reference,
        };
        erasure.Services.AddRange(r.Services.Select(p => new ServiceErasure
        {
            Service = p.Service,
            State = p.CompletedAt is null ? ErasureState.Pending : ErasureState.Complete,
            CompletedAt = p.CompletedAt is { } done ? Timestamp.FromDateTimeOffset(done) : null,
            RecordsErased = p.RecordsErased,
        }));
        return erasure;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure request {RequestId} started by {RequestedBy}")]
    private static partial void LogStarted(ILogger logger, string requestId, string requestedBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure request {RequestId} sent again to the services that have not completed")]
    private static partial void LogResent(ILogger logger, string requestId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure request {RequestId} refused: {Sessions} sessions still needed by the board")]
    private static partial void LogRefused(ILogger logger, string requestId, int sessions);
}

/// <summary>The ids an erasure names (<see cref="EventChecks"/>: the same shapes the consumers check).</summary>
internal static class ErasureIds
{
    /// <summary>A request id: 1-128 of letters, digits, '-', '_', '.', ':'.</summary>
    public static bool IsValidRequestId(string id) => EventChecks.IsRequestId(id);

    /// <summary>A learner id: 1-200 characters, no braces, whitespace or control characters.</summary>
    public static bool IsValidLearnerId(string id) => EventChecks.IsRecordId(id);
}
