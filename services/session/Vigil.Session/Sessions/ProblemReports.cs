using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.Session.Options;
using Vigil.Session.Review;
using Vigil.Session.Storage;

namespace Vigil.Session.Sessions;

/// <summary>
/// The learner's problem reports (SessionService.ReportProblem): a technical problem reported during the exam or up to
/// <see cref="SessionServiceOptions.ProblemReportWindow"/> after its end lands on the session's incident timeline
/// (one script), and a finished session joins the review lists "with a problem report" and "with incidents".
/// </summary>
internal sealed partial class ProblemReports(
    SessionStore sessions,
    SessionAccess access,
    IOptions<SessionServiceOptions> options,
    TimeProvider time,
    ILogger<ProblemReports> logger)
{
    /// <summary>Records the calling learner's report on their session; a retry of the same request returns the same report.</summary>
    public async Task<ReportProblemResponse> ReportAsync(Caller caller, ReportProblemRequest request)
    {
        var max = options.Value.MaxProblemDescriptionLength;
        var violations = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.RequestId)) violations.Add(("request_id", "An idempotency key is required."));
        if (string.IsNullOrWhiteSpace(request.SessionId)) violations.Add(("session_id", "The session is required."));
        if (string.IsNullOrWhiteSpace(request.Description)) violations.Add(("description", "Describe the problem."));
        else if (request.Description.Length > max)
        {
            violations.Add(("description", $"The description is at most {max} characters; this one has {request.Description.Length}."));
        }
        if (violations.Count > 0) throw new InvalidRequestException(violations);
        var session = await access.ForItsLearnerAsync(caller, request.SessionId);
        var window = options.Value.ProblemReportWindow;
        var now = time.GetUtcNow();
        // A finished session joins its review lists before the report is written (readers skip it until then).
        await sessions.PreIndexForReviewAsync(session, ReviewFilter.WithProblemReport, ReviewFilter.WithIncidents);
        var reply = await sessions.ReportProblemAsync(session.SessionId, "problem:" + request.RequestId, request.Description, now, window);
        switch (reply.Status)
        {
            case ProblemReportStatus.Recorded:
                await sessions.IndexForReviewAsync(session.SessionId);
                LogReported(logger, session.SessionId, reply.ReportId, reply.AfterEnd);
                return new ReportProblemResponse
                {
                    Report = new ProblemReport
                    {
                        ReportId = reply.ReportId,
                        SessionId = session.SessionId,
                        Description = request.Description,
                        ReportedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds())),
                        AfterEnd = reply.AfterEnd,
                    },
                };
            case ProblemReportStatus.Duplicate:
                var incident = await sessions.GetProblemReportAsync(session.SessionId, reply.ReportId)
                    ?? throw new StoredDataUnreadableException($"The problem report {reply.ReportId} this request recorded is not on the session's timeline.");
                var current = await sessions.GetAsync(session.SessionId) ?? session;
                return new ReportProblemResponse
                {
                    Report = new ProblemReport
                    {
                        ReportId = incident.IncidentId,
                        SessionId = session.SessionId,
                        Description = incident.Details,
                        ReportedAt = incident.StartedAt,
                        AfterEnd = current.FinishedAt is { } ended && incident.StartedAt.ToDateTimeOffset() >= ended,
                    },
                };
            case ProblemReportStatus.WindowClosed:
                throw new PreconditionFailedException("PROBLEM_REPORT_WINDOW_CLOSED", "sessions/" + session.SessionId,
                    $"Problems with a session are reported during the exam and up to {window.TotalHours:0.##} hours after its end; "
                    + $"this session's window closed at {reply.WindowClosedAt:u}. Contact the course team directly.");
            default:
                throw new AccessDeniedException("No session of yours has this id: a learner reaches only their own sessions.");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Problem report {ReportId} recorded on session {SessionId} (after its end: {AfterEnd})")]
    private static partial void LogReported(ILogger logger, string sessionId, string reportId, bool afterEnd);
}
