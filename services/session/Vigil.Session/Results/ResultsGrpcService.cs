using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.Session.Answers;
using Vigil.Session.Audit;
using Vigil.Session.Storage;

namespace Vigil.Session.Results;

/// <summary>
/// CourseResultsService: the course team exports a course's results as a server stream, one page of rows per message,
/// paging the course's session index with a cursor (one page in memory at a time, each write awaited: the client's
/// pace bounds the server's).
/// </summary>
internal sealed partial class ResultsGrpcService(SessionStore sessions, AuditTrail audit, ILogger<ResultsGrpcService> logger) : CourseResultsService.CourseResultsServiceBase
{
    public override async Task ExportResults(ExportResultsRequest request, IServerStreamWriter<ExportResultsResponse> responseStream, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var violations = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.RequestId)) violations.Add(("request_id", "An idempotency key is required."));
        if (string.IsNullOrWhiteSpace(request.CourseId)) violations.Add(("course_id", "The course is required."));
        if (request.PageSize < 0 || request.PageSize > 1000) violations.Add(("page_size", "The page size is between 1 and 1000 (0: 200)."));
        if (violations.Count > 0) throw new InvalidRequestException(violations);
        caller.RequireStaffOf(request.CourseId);
        var pageSize = request.PageSize == 0 ? 200 : request.PageSize;
        var total = await sessions.CountCourseSessionsAsync(request.CourseId);
        // Recorded before the first row leaves: every export that sent anything is on the course's audit trail.
        await audit.AppendCourseActionAsync(audit.Entry(caller, AuditTrail.StaffRole(caller, request.CourseId), AuditActionKind.ResultsExported,
            request.CourseId, $"results exported (about {total} sessions, pages of {pageSize})"));
        CourseCursor? after = null;
        long exported = 0;
        while (true)
        {
            var page = await sessions.ReadCourseSessionsAsync(request.CourseId, after, pageSize);
            if (page.Count == 0) break;
            after = page[^1];
            var rows = await Task.WhenAll(page.Select(e => RowAsync(e.SessionId, request.CourseId)));
            var message = new ExportResultsResponse { TotalEstimate = total };
            message.Rows.AddRange(rows.OfType<ResultRow>());
            exported += message.Rows.Count;
            message.Exported = exported;
            await responseStream.WriteAsync(message, context.CancellationToken);
        }
        if (exported == 0) await responseStream.WriteAsync(new ExportResultsResponse { TotalEstimate = total }, context.CancellationToken);
        LogExported(logger, request.CourseId, exported, caller.Subject);
    }

    /// <summary>One session's row: its record, or what is left of it after an erasure; null when it is gone.</summary>
    private async Task<ResultRow?> RowAsync(string sessionId, string courseId)
    {
        if (await sessions.GetAsync(sessionId) is { } s)
        {
            if (s.CourseId != courseId) return null;
            var latest = s.DecisionVersion > 0 ? await sessions.GetLatestDecisionAsync(sessionId) : null;
            return new ResultRow
            {
                SessionId = s.SessionId,
                ExamId = s.ExamId,
                ExamTitle = s.Exam.Title,
                LearnerId = s.LearnerId,
                LearnerName = s.LearnerName,
                State = s.State,
                StartedAt = Timestamp.FromDateTimeOffset(s.StartedAt),
                SubmittedAt = s.SubmittedAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
                Score = s.Score,
                MaxScore = AnswerRules.MaxScore(s.Exam),
                PassMark = s.Exam.PassMark,
                Decision = latest?.Outcome ?? DecisionOutcome.Unspecified,
                DecisionVersion = latest?.Version ?? 0,
                DecisionReason = latest?.Reason ?? RefusalReason.Unspecified,
                Attempt = s.Attempt,
                ExamKind = s.Exam.Kind == ExamKind.Unspecified ? ExamKind.Certification : s.Exam.Kind,
            };
        }
        if (await sessions.GetErasedAsync(sessionId) is { } gone && gone.CourseId == courseId)
        {
            var record = gone.Record;
            var latest = record.Decisions.LastOrDefault();
            return new ResultRow
            {
                SessionId = sessionId,
                ExamId = record.Session.ExamId,
                ExamTitle = record.ExamTitle,
                State = record.Session.State,
                StartedAt = record.Session.StartedAt,
                SubmittedAt = record.Session.SubmittedAt,
                Decision = latest?.Outcome ?? DecisionOutcome.Unspecified,
                DecisionVersion = latest?.Version ?? 0,
                DecisionReason = latest?.Reason ?? RefusalReason.Unspecified,
                ErasedAt = record.ErasedAt,
                Attempt = record.Session.Attempt,
            };
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Results of course {CourseId} exported: {Rows} rows, by {Caller}")]
    private static partial void LogExported(ILogger logger, string courseId, long rows, string caller);
}
