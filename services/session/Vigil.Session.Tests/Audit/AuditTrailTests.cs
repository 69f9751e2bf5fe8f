using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Audit;
using Vigil.Session.Exams;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Audit;

/// <summary>
/// The audit trail: each staff and board action writes exactly one entry (who, role, when, what) with the action, a
/// course's trail pages every entry once with its filters, only the course's board and ops read it, and nothing changes an entry.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class AuditTrailTests(SessionFixture f)
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(1);

    private ExamBoardService.ExamBoardServiceClient Reader(string token) => f.Journey.Board(token);

    private async Task<List<AuditEntry>> AllAsync(string token, ListAuditEntriesRequest request)
    {
        var entries = new List<AuditEntry>();
        var page = request.Clone();
        do
        {
            var response = await Reader(token).ListAuditEntriesAsync(page);
            Assert.True(response.Entries.Count <= (page.PageSize == 0 ? 50 : page.PageSize));
            entries.AddRange(response.Entries);
            page.PageToken = response.NextPageToken;
        }
        while (page.PageToken.Length > 0);
        return entries;
    }

    [Fact]
    public async Task Each_staff_and_board_action_writes_exactly_one_entry_with_who_when_and_what_and_a_refused_or_retried_one_none()
    {
        var course = SessionFixture.NewCourse();
        var staff = f.Journey.Exams(TestTokens.Staff("staff-a", course));
        var create = new CreateExamRequest { RequestId = "create-1", Exam = ExamBuilder.Standard(course, f.Clock.GetUtcNow()) };
        var createdAt = f.Clock.GetUtcNow();
        var exam = (await staff.CreateExamAsync(create)).Exam;
        await staff.CreateExamAsync(create);
        f.Advance(Step);

        var change = exam.Clone();
        change.Title = "Renamed";
        var update = new UpdateExamRequest { RequestId = "update-1", Exam = change, ExpectedVersion = 1 };
        exam = (await staff.UpdateExamAsync(update)).Exam;
        await staff.UpdateExamAsync(update);
        await RpcAssert.ThrowsAsync(StatusCode.Aborted, async () => await staff.UpdateExamAsync(new UpdateExamRequest { RequestId = "update-2", Exam = change, ExpectedVersion = 1 }));
        f.Advance(Step);

        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        await staff.GrantExtraTimeAsync(new GrantExtraTimeRequest
        {
            RequestId = "x", ExamId = exam.ExamId, LearnerId = learner.Id, ExtraTime = Duration.FromTimeSpan(TimeSpan.FromMinutes(10)), Reason = "hearing aid: needs captions",
        });
        f.Advance(Step);

        // A finished session: a second look by one member, closed by another member's decision; retries record nothing more.
        var session = await learner.StartAsync(exam.ExamId);
        await f.Journey.SubmitAsync(learner, session.SessionId, 0);
        await f.Journey.AwaitReviewableAsync(TestTokens.Board("prof-1", course), course, session.SessionId);
        var look = new RequestSecondLookRequest { RequestId = "sl-1", SessionId = session.SessionId, Notes = "secret-note-1" };
        await f.Board(course, "prof-1").RequestSecondLookAsync(look);
        await f.Board(course, "prof-1").RequestSecondLookAsync(look);
        await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await f.Board(course, "prof-2").RequestSecondLookAsync(
            new RequestSecondLookRequest { RequestId = "sl-2", SessionId = session.SessionId }));
        await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await f.Board(course, "prof-1").RecordDecisionAsync(
            new RecordDecisionRequest { RequestId = "d-0", SessionId = session.SessionId, Outcome = DecisionOutcome.Valid }));
        f.Advance(Step);
        var decide = new RecordDecisionRequest
        {
            RequestId = "d-1", SessionId = session.SessionId, Outcome = DecisionOutcome.Refused, Reason = RefusalReason.Camera, Notes = "secret-note-2",
        };
        await f.Board(course, "prof-2").RecordDecisionAsync(decide);
        await f.Board(course, "prof-2").RecordDecisionAsync(decide);
        f.Advance(Step);

        // An expired session whose answers the board accepts by exception, citing the learner's report.
        var late = await f.VerifiedLearnerAsync(exam.ExamId);
        var expired = await late.StartAsync(exam.ExamId);
        f.Advance(exam.TimeLimit.ToTimeSpan() + SessionFixture.SweepInterval);
        await f.WaitForStateAsync(late, expired.SessionId, s => s == SessionState.ExpiredUnsubmitted);
        var report = await late.ReportProblemAsync(expired.SessionId, "The page froze.");
        var accept = new AcceptSavedAnswersRequest
        {
            RequestId = "acc-1", SessionId = expired.SessionId, Reason = "secret outage text", FailureReference = "INC-1", ProblemReportId = report.ReportId,
        };
        await f.Board(course, "prof-1").AcceptSavedAnswersAsync(accept);
        await f.Board(course, "prof-1").AcceptSavedAnswersAsync(accept);
        f.Advance(Step);

        var exporter = new CourseResultsService.CourseResultsServiceClient(f.Journey.Invoker(TestTokens.Staff("staff-b", course)));
        using (var call = exporter.ExportResults(new ExportResultsRequest { RequestId = "export-1", CourseId = course }))
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
        }

        var entries = await AllAsync(TestTokens.Board("prof-3", course), new ListAuditEntriesRequest { CourseId = course, PageSize = 3 });
        Assert.Equal(
        [
            (AuditActionKind.ExamCreated, "staff-a", AuditActorRole.Staff, exam.ExamId, "", ""),
            (AuditActionKind.ExamUpdated, "staff-a", AuditActorRole.Staff, exam.ExamId, "", ""),
            (AuditActionKind.ExtraTimeGranted, "staff-a", AuditActorRole.Staff, exam.ExamId, "", learner.Id),
            (AuditActionKind.SecondLookRequested, "prof-1", AuditActorRole.Board, exam.ExamId, session.SessionId, ""),
            (AuditActionKind.DecisionRecorded, "prof-2", AuditActorRole.Board, exam.ExamId, session.SessionId, ""),
            (AuditActionKind.SavedAnswersAccepted, "prof-1", AuditActorRole.Board, exam.ExamId, expired.SessionId, ""),
            (AuditActionKind.ResultsExported, "staff-b", AuditActorRole.Staff, "", "", ""),
        ], entries.Select(e => (e.Kind, e.Actor, e.ActorRole, e.ExamId, e.SessionId, e.LearnerId)).ToList());
        Assert.All(entries, e => Assert.Equal(course, e.CourseId));
        Assert.Equal(entries.Count, entries.Select(e => e.EntryId).Distinct().Count());
        Assert.Equal(createdAt, entries[0].At.ToDateTimeOffset());
        Assert.Equal(entries.OrderBy(e => e.At.ToDateTimeOffset()).Select(e => e.EntryId), entries.Select(e => e.EntryId));
        Assert.Equal("extra time set to 10 min", entries[2].Summary);
        Assert.Equal("decision v1: refused (REFUSAL_REASON_CAMERA), closing the open second look", entries[4].Summary);
        // What is said in free text (notes, reasons) stays out of the trail.
        Assert.All(entries, e => Assert.DoesNotContain("secret", e.Summary, StringComparison.Ordinal));
        Assert.All(entries, e => Assert.DoesNotContain("hearing", e.Summary, StringComparison.Ordinal));
        // Ops read the same trail.
        Assert.Equal(entries, await AllAsync(TestTokens.Ops(), new ListAuditEntriesRequest { CourseId = course }));
    }

    [Fact]
    public async Task Paging_visits_each_entry_once_oldest_first_with_kind_and_time_filters()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        await f.CreateExamAsync(SessionFixture.NewCourse());
        var staff = f.Exams(course);
        var from = DateTimeOffset.MinValue;
        var to = DateTimeOffset.MinValue;
        for (var i = 0; i < 90; i++)
        {
            // Thirty grants in each of three seconds: many entries share a millisecond.
            if (i % 30 == 0)
            {
                f.Advance(Step);
                if (i == 30) from = f.Clock.GetUtcNow();
                if (i == 60) to = f.Clock.GetUtcNow();
            }
            await staff.GrantExtraTimeAsync(new GrantExtraTimeRequest
            {
                RequestId = "g" + i, ExamId = exam.ExamId, LearnerId = $"learner-{i:D3}", ExtraTime = Duration.FromTimeSpan(TimeSpan.FromMinutes(i % 7)), Reason = "r",
            });
        }
        // An action cut off between its index member and its script: a member without an entry, skipped, then dropped.
        var trail = f.ReplicaA.Services.GetRequiredService<AuditTrail>();
        var ghost = await trail.PrepareAsync(new AuditEntry
        {
            EntryId = "ghost", At = Timestamp.FromDateTimeOffset(f.Clock.GetUtcNow()), CourseId = course, Kind = AuditActionKind.ExtraTimeGranted,
        }, AuditPlace.Exam, exam.ExamId);

        var board = TestTokens.Board("prof-1", course);
        var all = await AllAsync(board, new ListAuditEntriesRequest { CourseId = course, PageSize = 7 });
        Assert.Equal(91, all.Count);
        Assert.Equal(AuditActionKind.ExamCreated, all[0].Kind);
        Assert.Equal(all.Count, all.Select(e => e.EntryId).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 90).Select(i => $"learner-{i:D3}").Order(), all.Skip(1).Select(e => e.LearnerId).Order());
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.At.ToDateTimeOffset() <= p.Second.At.ToDateTimeOffset()));

        var grants = await AllAsync(board, new ListAuditEntriesRequest { CourseId = course, PageSize = 50, Kinds = { AuditActionKind.ExtraTimeGranted } });
        Assert.Equal(90, grants.Count);
        Assert.Equal([all[0].EntryId], (await AllAsync(board, new ListAuditEntriesRequest { CourseId = course, Kinds = { AuditActionKind.ExamCreated } })).Select(e => e.EntryId));
        Assert.Empty(await AllAsync(board, new ListAuditEntriesRequest { CourseId = course, Kinds = { AuditActionKind.DecisionRecorded } }));

        var window = await AllAsync(board, new ListAuditEntriesRequest
        {
            CourseId = course, PageSize = 4, From = Timestamp.FromDateTimeOffset(from), To = Timestamp.FromDateTimeOffset(to),
        });
        Assert.Equal(Enumerable.Range(30, 30).Select(i => $"learner-{i:D3}").Order(), window.Select(e => e.LearnerId).Order());

        // A token is bound to its list and filter; what is not a token is refused.
        var first = await Reader(board).ListAuditEntriesAsync(new ListAuditEntriesRequest { CourseId = course, PageSize = 5 });
        var other = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await Reader(board).ListAuditEntriesAsync(
            new ListAuditEntriesRequest { CourseId = course, PageSize = 5, PageToken = first.NextPageToken, Kinds = { AuditActionKind.ExamCreated } }));
        Assert.Equal("page_token", Assert.Single(RpcAssert.FieldViolations(other)).Field);
        await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await Reader(board).ListAuditEntriesAsync(
            new ListAuditEntriesRequest { CourseId = course, PageToken = "not-a-token" }));
        var bad = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await Reader(board).ListAuditEntriesAsync(new ListAuditEntriesRequest
        {
            CourseId = course, PageSize = 501, Kinds = { AuditActionKind.Unspecified }, From = Timestamp.FromDateTimeOffset(to), To = Timestamp.FromDateTimeOffset(from),
        }));
        Assert.Equal(["kinds", "page_size", "to"], RpcAssert.FieldViolations(bad).Select(v => v.Field).Order());

        // The ghost member stays in the index (skipped) until no action could still write its entry, then a reader drops it.
        var redis = f.ReplicaA.Services.GetRequiredService<RedisStorage>();
        var index = redis.Keys.Record("course", course).Part("audit");
        Assert.NotNull(await redis.Database.SortedSetScoreAsync(index, ghost.Member));
        f.Advance(AuditTrail.AbandonedAfter + Step);
        Assert.Equal(91, (await AllAsync(board, new ListAuditEntriesRequest { CourseId = course, PageSize = 100 })).Count);
        Assert.Null(await redis.Database.SortedSetScoreAsync(index, ghost.Member));
    }

    [Fact]
    public async Task Only_the_courses_board_and_ops_read_its_trail()
    {
        var course = SessionFixture.NewCourse();
        await f.CreateExamAsync(course);
        var request = new ListAuditEntriesRequest { CourseId = course };
        Assert.Single((await Reader(TestTokens.Board("prof-1", course)).ListAuditEntriesAsync(request)).Entries);
        Assert.Single((await Reader(TestTokens.Ops()).ListAuditEntriesAsync(request)).Entries);
        foreach (var token in new[]
        {
            TestTokens.Board("prof-9", SessionFixture.NewCourse()),
            TestTokens.Staff("staff-1", course),
            TestTokens.Learner(Journey.Id("learner")),
            TestTokens.Service(),
        })
        {
            var denied = await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await Reader(token).ListAuditEntriesAsync(request));
            Assert.Equal("A course's audit trail is read only by its exam board and by platform operations.", denied.Status.Detail);
        }
        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, async () => await Reader(null!).ListAuditEntriesAsync(request));
        var noCourse = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await Reader(TestTokens.Ops()).ListAuditEntriesAsync(new ListAuditEntriesRequest()));
        Assert.Equal("course_id", Assert.Single(RpcAssert.FieldViolations(noCourse)).Field);
    }

    [Fact]
    public async Task No_RPC_names_an_entry_and_a_script_writing_an_entry_again_leaves_it_as_it_was()
    {
        // No request of the contract carries an audit entry or an entry id: no RPC can change or delete one.
        var requests = new[] { SessionReflection.Descriptor, ReviewReflection.Descriptor, ExamReflection.Descriptor, ErasureReflection.Descriptor }
            .SelectMany(file => file.Services).SelectMany(s => s.Methods).Select(m => m.InputType).ToList();
        Assert.NotEmpty(requests);
        foreach (var message in requests)
        {
            Assert.DoesNotContain(Fields(message, []), field =>
                field.Name == "entry_id" || (field.FieldType == FieldType.Message && field.MessageType.FullName == AuditEntry.Descriptor.FullName));
        }
        var reads = requests.Where(m => m.Name.Contains("Audit", StringComparison.Ordinal)).Select(m => m.Name).ToList();
        Assert.Equal(["ListAuditEntriesRequest"], reads);

        // Every script writes an entry once (HSETNX): the same entry id written again with other contents changes nothing.
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var trail = f.ReplicaA.Services.GetRequiredService<AuditTrail>();
        var store = f.ReplicaA.Services.GetRequiredService<ExamStore>();
        var entry = new AuditEntry { EntryId = "e-1", At = Timestamp.FromDateTimeOffset(f.Clock.GetUtcNow()), CourseId = course, Actor = "staff-1", Kind = AuditActionKind.ExtraTimeGranted, Summary = "first" };
        var write = await trail.PrepareAsync(entry, AuditPlace.Exam, exam.ExamId);
        await store.SetExtraTimeAsync(exam.ExamId, "learner-1", TimeSpan.FromMinutes(5), write);
        var forged = entry.Clone();
        forged.Summary = "rewritten";
        forged.Actor = "someone-else";
        await store.SetExtraTimeAsync(exam.ExamId, "learner-1", TimeSpan.FromMinutes(6), write with { Entry = Google.Protobuf.MessageExtensions.ToByteArray(forged) });
        var read = (await Reader(TestTokens.Ops()).ListAuditEntriesAsync(new ListAuditEntriesRequest { CourseId = course, Kinds = { AuditActionKind.ExtraTimeGranted } })).Entries;
        Assert.Equal(("first", "staff-1"), (Assert.Single(read).Summary, read[0].Actor));
    }

    private static IEnumerable<FieldDescriptor> Fields(MessageDescriptor message, HashSet<string> seen)
    {
        if (!seen.Add(message.FullName)) yield break;
        foreach (var field in message.Fields.InDeclarationOrder())
        {
            yield return field;
            if (field.FieldType == FieldType.Message)
            {
                foreach (var inner in Fields(field.MessageType, seen)) yield return inner;
            }
        }
    }
}
