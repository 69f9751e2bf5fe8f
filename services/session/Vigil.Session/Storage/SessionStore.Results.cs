using StackExchange.Redis;
using Vigil.Contracts.Session.V1;

namespace Vigil.Session.Storage;

/// <summary>A place in a course's session index: the last entry read (its start time, Unix ms, and its id).</summary>
internal sealed record CourseCursor(double StartedAtMs, string SessionId);

/// <summary>The session store's reads for the results export: the course's session index, page by page.</summary>
internal sealed partial class SessionStore
{
    /// <summary>How many sessions a course's index holds.</summary>
    public Task<long> CountCourseSessionsAsync(string courseId) => Db.SortedSetLengthAsync(keys.CourseSessions(courseId));

    /// <summary>
    /// Up to <paramref name="take"/> entries of a course's session index after <paramref name="after"/> (from the start when
    /// null), oldest start first. The cursor is the last entry read: entries are ordered by start time, then id (as Redis
    /// orders equal scores), so a session added or removed meanwhile moves nothing else.
    /// </summary>
    public async Task<IReadOnlyList<CourseCursor>> ReadCourseSessionsAsync(string courseId, CourseCursor? after, int take)
    {
        var key = keys.CourseSessions(courseId);
        var skip = 0L;
        while (true)
        {
            var batch = await Db.SortedSetRangeByScoreWithScoresAsync(key, after?.StartedAtMs ?? double.NegativeInfinity, double.PositiveInfinity,
                Exclude.None, Order.Ascending, skip, take);
            var fresh = batch
                .Select(e => new CourseCursor(e.Score, e.Element.ToString()))
                .Where(e => after is null || e.StartedAtMs > after.StartedAtMs || string.CompareOrdinal(e.SessionId, after.SessionId) > 0)
                .ToList();
            // Entries of the cursor's own start time up to the cursor: skip past them (many sessions can start in one ms).
            if (fresh.Count > 0 || batch.Length < take) return fresh;
            skip += batch.Length;
        }
    }

    /// <summary>The decision in force on a session (its latest), or null.</summary>
    public async Task<BoardDecision?> GetLatestDecisionAsync(string sessionId)
    {
        var v = await Db.ListGetByIndexAsync(keys.Session(sessionId).Decisions, -1);
        return v.IsNullOrEmpty ? null : BoardDecision.Parser.ParseFrom((byte[])v!);
    }
}
