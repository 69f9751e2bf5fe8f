using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Storage;

namespace Vigil.Session.Storage;

/// <summary>What recording a learner's problem report did.</summary>
internal enum ProblemReportStatus
{
    /// <summary>Recorded now, as an incident of the session.</summary>
    Recorded,
    /// <summary>This request already recorded it (<see cref="ProblemReportReply.ReportId"/>).</summary>
    Duplicate,
    /// <summary>The session ended longer ago than the window (<see cref="ProblemReportReply.WindowClosedAt"/>).</summary>
    WindowClosed,
    /// <summary>No such session.</summary>
    Missing,
}

/// <summary>What recording a problem report did: the report's id (its incident's), whether after the end, or when the window closed.</summary>
internal sealed record ProblemReportReply(ProblemReportStatus Status, string ReportId = "", bool AfterEnd = false, DateTimeOffset? WindowClosedAt = null);

/// <summary>The session store's side of the learner's problem reports (incidents of kind PROBLEM_REPORTED).</summary>
internal sealed partial class SessionStore
{
    private static readonly RedisScript ReportProblemScript = RedisScript.Load<SessionStore>("ReportProblem");

    /// <summary>
    /// Records a problem report on the session's incident timeline (one script: the incident, the session's count of
    /// reports, the request id), if the session runs or ended at most <paramref name="window"/> ago.
    /// </summary>
    public async Task<ProblemReportReply> ReportProblemAsync(string sessionId, string requestKey, string description, DateTimeOffset now, TimeSpan window)
    {
        var k = keys.Session(sessionId);
        var r = (RedisResult[])(await storage.WriteAsync(k.Hash, ReportProblemScript, new
        {
            session = k.Hash,
            incidents = k.Incidents,
            requests = k.Requests,
            requestKey,
            description,
            now = now.ToUnixTimeMilliseconds(),
            windowMs = (long)window.TotalMilliseconds,
        }))!;
        return Text(r[0]) switch
        {
            "ok" => new ProblemReportReply(ProblemReportStatus.Recorded, Text(r[1]), Number(r[2]) == 1),
            "dup" => new ProblemReportReply(ProblemReportStatus.Duplicate, Text(r[1])),
            "closed" => new ProblemReportReply(ProblemReportStatus.WindowClosed, WindowClosedAt: DateTimeOffset.FromUnixTimeMilliseconds(Number(r[1]))),
            "missing" => new ProblemReportReply(ProblemReportStatus.Missing),
            var other => throw Unexpected(ReportProblemScript, other),
        };
    }

    /// <summary>One of the session's problem reports by its id (an incident of kind PROBLEM_REPORTED), or null when there is none.</summary>
    public async Task<Incident?> GetProblemReportAsync(string sessionId, string reportId)
    {
        if (reportId.Length == 0) return null;
        var v = await Db.HashGetAsync(keys.Session(sessionId).Incidents, reportId);
        if (v.IsNullOrEmpty) return null;
        var incident = StoredFormats.Incidents([new HashEntry(reportId, v)]).SingleOrDefault();
        return incident?.Kind == IncidentKind.ProblemReported ? incident : null;
    }
}
