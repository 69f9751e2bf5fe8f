using Google.Protobuf;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Audit;

namespace Vigil.Session.Storage;

/// <summary>What asking for a second look did.</summary>
internal enum SecondLookStatus
{
    /// <summary>Recorded now, open (<see cref="SecondLookReply.Position"/>: its place in the session's second looks, from 1).</summary>
    Recorded,
    /// <summary>This request already recorded one (<see cref="SecondLookReply.Position"/>).</summary>
    Duplicate,
    /// <summary>Another second look is open (<see cref="SecondLookReply.OpenBy"/> asked for it).</summary>
    AlreadyOpen,
    /// <summary>The session is still in progress.</summary>
    InProgress,
    /// <summary>No such session.</summary>
    Missing,
}

/// <summary>What asking for a second look did, with its position or who asked for the open one.</summary>
internal sealed record SecondLookReply(SecondLookStatus Status, long Position = 0, string OpenBy = "");

/// <summary>The session store's side of the board's second looks (<c>s:{sid}:second-looks</c>, <c>second_look_by</c>).</summary>
internal sealed partial class SessionStore
{
    private static readonly RedisScript RequestSecondLookScript = RedisScript.Load<SessionStore>("RequestSecondLook");

    /// <summary>Appends an open second look asked by <paramref name="entry"/>'s member (with its audit entry), unless the session runs or one is open.</summary>
    public async Task<SecondLookReply> RequestSecondLookAsync(string sessionId, string requestKey, SecondLook entry, AuditWrite? audit = null)
    {
        var k = keys.Session(sessionId);
        var r = (RedisResult[])(await storage.WriteAsync(k.Hash, RequestSecondLookScript, new
        {
            session = k.Hash,
            secondLooks = k.SecondLooks,
            requests = k.Requests,
            requestKey,
            entry = entry.ToByteArray(),
            requestedBy = entry.RequestedBy,
            audit = k.Audit,
            auditId = audit?.EntryId ?? string.Empty,
            auditEntry = audit?.Entry ?? [],
        }))!;
        return Text(r[0]) switch
        {
            "ok" => new SecondLookReply(SecondLookStatus.Recorded, Number(r[1])),
            "dup" => new SecondLookReply(SecondLookStatus.Duplicate, Number(r[1])),
            "open" => new SecondLookReply(SecondLookStatus.AlreadyOpen, OpenBy: Text(r[1])),
            "state" => new SecondLookReply(SecondLookStatus.InProgress),
            "missing" => new SecondLookReply(SecondLookStatus.Missing),
            var other => throw Unexpected(RequestSecondLookScript, other),
        };
    }

    /// <summary>The second looks of a session, oldest first (the last one is open when it has no closed_at).</summary>
    public async Task<List<SecondLook>> GetSecondLooksAsync(string sessionId) =>
        (await Db.ListRangeAsync(keys.Session(sessionId).SecondLooks)).Select(v => SecondLook.Parser.ParseFrom((byte[])v!)).ToList();
}
