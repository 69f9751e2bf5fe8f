using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Review;

/// <summary>
/// ListSessionsForReview over the per-course review index: a cursor that holds while the board decides (every session
/// exactly once at page size 1), the filters, and page tokens that are this list's own or refused.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class ListSessionsForReviewTests(SessionFixture f)
{
    private const int Sessions = 5;

    [Fact]
    public async Task Page_size_one_while_deciding_visits_every_session_exactly_once()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var started = new List<StartedLearner>();
        for (var i = 0; i < Sessions; i++) started.Add(await f.Journey.StartedAsync(exam, seed: i));
        foreach (var s in started)
        {
            f.Advance(TimeSpan.FromMilliseconds(5)); // each its own end time: the list's order is the order they ended in
            await f.Journey.SubmitAsync(s.Learner, s.SessionId, 0);
        }
        var all = started.Select(s => s.SessionId).Order(StringComparer.Ordinal).ToList();
        var board = f.Board(course);

        // Awaiting a decision, page size 1, each session decided as soon as it is seen: it leaves the list under the cursor.
        var seen = await PageAsync(board, course, ReviewFilter.AwaitingDecision, async s =>
            await board.RecordDecisionAsync(new RecordDecisionRequest { RequestId = Journey.RequestId(), SessionId = s.Session.SessionId, Outcome = DecisionOutcome.Valid }));
        Assert.Equal(all, seen.Order(StringComparer.Ordinal));
        Assert.Empty(await PageAsync(board, course, ReviewFilter.AwaitingDecision));

        // Every session, page size 1, each withdrawn as it is seen (it moves within the filters, never within the order).
        seen = await PageAsync(board, course, ReviewFilter.Unspecified, async s =>
            await board.RecordDecisionAsync(new RecordDecisionRequest
            {
                RequestId = Journey.RequestId(), SessionId = s.Session.SessionId, Outcome = DecisionOutcome.Withdrawn,
                Reason = RefusalReason.Internet, ExpectedVersion = s.LatestDecision.Version,
            }));
        Assert.Equal(all, seen.Order(StringComparer.Ordinal));
        Assert.Equal(all, (await PageAsync(board, course, ReviewFilter.Decided)).Order(StringComparer.Ordinal));

        // The oldest end first: the order the sessions were submitted in.
        Assert.Equal(started.Select(s => s.SessionId), await PageAsync(board, course, ReviewFilter.Unspecified));
    }

    [Fact]
    public async Task Filters_list_the_sessions_with_incidents_and_with_an_exception_and_the_old_flag_is_the_awaiting_filter()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var clean = await f.Journey.StartedAsync(exam, seed: 1);
        var withIncident = await f.Journey.StartedAsync(exam, seed: 2);
        var expired = await f.Journey.StartedAsync(exam, seed: 3);
        await f.Journey.SubmitAsync(clean.Learner, clean.SessionId, 0);
        await using (var stream = await withIncident.Learner.OpenStreamAsync(withIncident.SessionId))
        {
            await stream.HeartbeatAsync(audio: AudioOutput.Headphones);
        }
        await f.Journey.SubmitAsync(withIncident.Learner, withIncident.SessionId, 0);
        f.Advance(exam.TimeLimit.ToTimeSpan() + SessionFixture.SweepInterval);
        await f.WaitForStateAsync(expired.Learner, expired.SessionId, s => s == SessionState.ExpiredUnsubmitted);
        var board = f.Board(course);
        var report = await expired.Learner.ReportProblemAsync(expired.SessionId, "The exam page stopped responding.");
        await board.AcceptSavedAnswersAsync(new AcceptSavedAnswersRequest
        {
            RequestId = Journey.RequestId(), SessionId = expired.SessionId, Reason = "Outage", FailureReference = "INC-1", ProblemReportId = report.ReportId,
        });

        // The problem report is an incident too (on the timeline): the expired session is in both lists.
        Assert.Equal([withIncident.SessionId, expired.SessionId], await PageAsync(board, course, ReviewFilter.WithIncidents));
        Assert.Equal([expired.SessionId], await PageAsync(board, course, ReviewFilter.WithProblemReport));
        Assert.Equal([expired.SessionId], await PageAsync(board, course, ReviewFilter.WithException));
        Assert.Empty(await PageAsync(board, course, ReviewFilter.Decided));
        Assert.Equal(3, (await PageAsync(board, course, ReviewFilter.AwaitingDecision)).Count);
        var flagged = await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, AwaitingDecisionOnly = true });
        Assert.Equal(3, flagged.Sessions.Count);
        Assert.Equal(1, flagged.Sessions.Single(s => s.Session.SessionId == withIncident.SessionId).IncidentCount);
        await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await board.ListSessionsForReviewAsync(
            new ListSessionsForReviewRequest { CourseId = course, AwaitingDecisionOnly = true, Filter = ReviewFilter.Decided }));
    }

    [Fact]
    public async Task A_page_token_of_another_list_or_no_token_at_all_is_refused()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        for (var i = 0; i < 2; i++)
        {
            var s = await f.Journey.StartedAsync(exam, seed: i);
            await f.Journey.SubmitAsync(s.Learner, s.SessionId, 0);
        }
        var board = f.Board(course);
        var first = await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, PageSize = 1 });
        Assert.NotEmpty(first.NextPageToken);
        Assert.Single((await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, PageSize = 1, PageToken = first.NextPageToken })).Sessions);

        var otherCourse = SessionFixture.NewCourse();
        foreach (var (courseId, token, filter) in new[]
        {
            (course, "1", ReviewFilter.Unspecified),
            (course, "not a token!", ReviewFilter.Unspecified),
            (course, first.NextPageToken[..^2], ReviewFilter.Unspecified),
            (course, first.NextPageToken, ReviewFilter.Decided),
            (otherCourse, first.NextPageToken, ReviewFilter.Unspecified),
        })
        {
            var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await f.Board(courseId).ListSessionsForReviewAsync(
                new ListSessionsForReviewRequest { CourseId = courseId, PageSize = 1, PageToken = token, Filter = filter }));
            Assert.Equal("page_token", Assert.Single(RpcAssert.FieldViolations(ex)).Field);
        }
    }

    /// <summary>Pages through a filter at page size 1, calling <paramref name="onEach"/> on each session as it is seen; returns the ids in the order seen.</summary>
    private static async Task<List<string>> PageAsync(ExamBoardService.ExamBoardServiceClient board, string course, ReviewFilter filter, Func<ReviewSummary, Task>? onEach = null)
    {
        var seen = new List<string>();
        var token = string.Empty;
        for (var pages = 0; pages < 100; pages++)
        {
            var page = await board.ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course, Filter = filter, PageSize = 1, PageToken = token });
            Assert.True(page.Sessions.Count <= 1);
            foreach (var s in page.Sessions)
            {
                seen.Add(s.Session.SessionId);
                if (onEach is not null) await onEach(s);
            }
            token = page.NextPageToken;
            if (token.Length == 0) return seen;
        }
        throw new InvalidOperationException("The list did not end within 100 pages.");
    }
}
