using StackExchange.Redis;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Audit;

namespace Vigil.Session.Storage;

/// <summary>What resetting an attempt did.</summary>
internal enum ResetStatus
{
    /// <summary>Marked now.</summary>
    Reset,
    /// <summary>Already marked (<see cref="ResetReply.At"/>, <see cref="ResetReply.By"/>: the first mark).</summary>
    AlreadyReset,
    /// <summary>The session is still in progress.</summary>
    InProgress,
    /// <summary>No such session.</summary>
    Missing,
}

/// <summary>What resetting an attempt did, with the mark in force.</summary>
internal sealed record ResetReply(ResetStatus Status, DateTimeOffset At = default, string By = "");

/// <summary>The session store's side of attempt resets (<c>reset_at</c>, <c>reset_by</c>, <c>reset_reason</c> on the session).</summary>
internal sealed partial class SessionStore
{
    private static readonly RedisScript ResetAttemptScript = RedisScript.Load<SessionStore>("ResetAttempt");

    /// <summary>Marks a finished session as reset by <paramref name="by"/> at <paramref name="at"/>, with its audit entry.</summary>
    public async Task<ResetReply> ResetAttemptAsync(string sessionId, string by, DateTimeOffset at, string reason, AuditWrite? audit = null)
    {
        var k = keys.Session(sessionId);
        var r = (RedisResult[])(await storage.WriteAsync(k.Hash, ResetAttemptScript, new
        {
            session = k.Hash,
            resetAt = at.ToUnixTimeMilliseconds(),
            resetBy = by,
            reason,
            audit = k.Audit,
            auditId = audit?.EntryId ?? string.Empty,
            auditEntry = audit?.Entry ?? [],
        }))!;
        return Text(r[0]) switch
        {
            "ok" => new ResetReply(ResetStatus.Reset, at, by),
            "dup" => new ResetReply(ResetStatus.AlreadyReset, DateTimeOffset.FromUnixTimeMilliseconds(Number(r[1])), Text(r[2])),
            "state" => new ResetReply(ResetStatus.InProgress),
            "missing" => new ResetReply(ResetStatus.Missing),
            var other => throw Unexpected(ResetAttemptScript, other),
        };
    }
}
