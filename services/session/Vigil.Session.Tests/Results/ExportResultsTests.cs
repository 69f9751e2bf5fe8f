using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Storage;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Results;

/// <summary>CourseResultsService.ExportResults: every session of the course exactly once, page by page, for its staff only.</summary>
[Collection(SessionCollection.Name)]
public sealed class ExportResultsTests(SessionFixture f)
{
    [Fact]
    public async Task A_course_of_a_few_hundred_sessions_is_exported_row_by_row_each_session_once()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var store = f.ReplicaA.Services.GetRequiredService<SessionStore>();
        var now = f.Clock.GetUtcNow();
        // 320 sessions seeded through the store (the learner's verification is not what is under test): 200 of them
        // start in the very same millisecond (the cursor must page through ties), the rest one per millisecond after.
        var expected = new Dictionary<string, (string Learner, SessionState State, double Score, DecisionOutcome Decision)>();
        for (var i = 0; i < 320; i++)
        {
            var id = $"ses-{i:D4}-" + Guid.NewGuid().ToString("N")[..8];
            var started = i < 200 ? now : now.AddMilliseconds(i);
            Assert.True(await store.CreateAsync(new NewSession(id, exam, $"learner-{i}", $"Learner, \"{i}\"", $"l{i}@example.org", started, started.AddHours(1), null, null, "start")));
            var state = SessionState.InProgress;
            var score = 0.0;
            var decision = DecisionOutcome.Unspecified;
            if (i % 4 != 3)
            {
                var read = (await store.GetAsync(id))!;
                score = i % 5;
                var ending = new SessionEnding(FinishMode.FinalCheck, read.Rev, now.AddMinutes(1), SessionState.Submitted, 0,
                    new Receipt { SessionId = id }, score, 5, Expired(id, course), "finish", null);
                Assert.Equal(FinishStatus.Finished, (await store.FinishAsync(id, ending)).Status);
                state = SessionState.Submitted;
                if (i % 3 == 0)
                {
                    var d = new BoardDecision { Version = 1, Outcome = DecisionOutcome.Valid, DecidedBy = "board-1", DecidedAt = Timestamp.FromDateTimeOffset(now.AddMinutes(2)) };
                    Assert.Equal(DecisionStatus.Recorded, (await store.DecideAsync(id, "d:" + id, 0, d, Expired(id, course), now.AddMinutes(2))).Status);
                    decision = DecisionOutcome.Valid;
                }
            }
            expected[id] = ($"learner-{i}", state, score, decision);
        }
        // Another course's session is no row of this one.
        var other = await f.CreateExamAsync(SessionFixture.NewCourse());
        Assert.True(await store.CreateAsync(new NewSession("ses-other-" + Guid.NewGuid().ToString("N"), other, "learner-x", "X", "x@example.org", now, now.AddHours(1), null, null, "start")));

        var staff = new CourseResultsService.CourseResultsServiceClient(f.Journey.Invoker(TestTokens.Staff("staff-1", course)));
        using var call = staff.ExportResults(new ExportResultsRequest { RequestId = "export-1", CourseId = course, PageSize = 37 });
        var seen = new List<ResultRow>();
        var pages = 0;
        await foreach (var page in call.ResponseStream.ReadAllAsync())
        {
            pages++;
            Assert.True(page.Rows.Count <= 37);
            Assert.Equal(320, page.TotalEstimate);
            seen.AddRange(page.Rows);
            Assert.Equal(seen.Count, page.Exported);
        }
        Assert.True(pages >= 320 / 37, $"{pages} pages");
        Assert.Equal(320, seen.Count);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), seen.Select(r => r.SessionId).Order(StringComparer.Ordinal));
        foreach (var row in seen)
        {
            var want = expected[row.SessionId];
            Assert.Equal((want.Learner, want.State, want.Score, want.Decision, exam.ExamId, exam.Title, exam.PassMark),
                (row.LearnerId, row.State, row.Score, row.Decision, row.ExamId, row.ExamTitle, row.PassMark));
        }
        // Oldest start first.
        Assert.Equal(seen.Select(r => r.StartedAt.ToDateTimeOffset()).Order(), seen.Select(r => r.StartedAt.ToDateTimeOffset()));
    }

    [Fact]
    public async Task Only_the_courses_staff_may_export_and_bad_requests_are_refused_by_field()
    {
        var course = SessionFixture.NewCourse();
        var empty = new CourseResultsService.CourseResultsServiceClient(f.Journey.Invoker(TestTokens.Staff("staff-1", course)));
        var rows = new List<ExportResultsResponse>();
        using (var call = empty.ExportResults(new ExportResultsRequest { RequestId = "e", CourseId = course }))
        {
            await foreach (var page in call.ResponseStream.ReadAllAsync()) rows.Add(page);
        }
        Assert.Equal(0, Assert.Single(rows).TotalEstimate);

        foreach (var token in new[] { TestTokens.Staff("staff-2", SessionFixture.NewCourse()), TestTokens.Board("board-1", course), TestTokens.Learner("learner-1") })
        {
            var client = new CourseResultsService.CourseResultsServiceClient(f.Journey.Invoker(token));
            await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () =>
            {
                using var call = client.ExportResults(new ExportResultsRequest { RequestId = "e", CourseId = course });
                await call.ResponseStream.MoveNext();
            });
        }
        var bad = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () =>
        {
            using var call = empty.ExportResults(new ExportResultsRequest { CourseId = course, PageSize = 5000 });
            await call.ResponseStream.MoveNext();
        });
        Assert.Equal(["request_id", "page_size"], RpcAssert.FieldViolations(bad).Select(v => v.Field));
    }

    private static Vigil.Contracts.Events.SessionExpired Expired(string sessionId, string courseId) => new()
    {
        EventId = Guid.NewGuid(), SessionId = sessionId, ExamId = "exam", CourseId = courseId, LearnerId = "learner", ExamTitle = "t", ExpiredAt = DateTimeOffset.UtcNow, UnvalidatedAnswers = 0,
    };
}
