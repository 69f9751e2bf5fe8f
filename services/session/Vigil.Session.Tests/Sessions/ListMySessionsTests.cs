using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Sessions;

/// <summary>ListMySessions: a learner finds their own sessions (the latest start first, paged by a cursor), and only theirs.</summary>
[Collection(SessionCollection.Name)]
public sealed class ListMySessionsTests(SessionFixture f)
{
    [Fact]
    public async Task A_learner_pages_through_their_own_sessions_latest_first_and_sees_no_one_elses()
    {
        var course = SessionFixture.NewCourse();
        var first = await f.CreateExamAsync(course);
        var second = await f.CreateExamAsync(course, e => e.Title = "Second exam");
        var learner = await f.VerifiedLearnerAsync(first.ExamId);
        await f.Journey.VerifyAsync(learner, second.ExamId);
        var s1 = await learner.StartAsync(first.ExamId);
        f.Advance(TimeSpan.FromSeconds(1));
        var s2 = await learner.StartAsync(second.ExamId);
        var other = await f.VerifiedLearnerAsync(first.ExamId);
        await other.StartAsync(first.ExamId);

        var page1 = await learner.Sessions().ListMySessionsAsync(new ListMySessionsRequest { PageSize = 1 });
        var only = Assert.Single(page1.Sessions);
        Assert.Equal((s2.SessionId, "Second exam", SessionState.InProgress), (only.Session.SessionId, only.ExamTitle, only.Session.State));
        var page2 = await learner.Sessions(f.ReplicaB).ListMySessionsAsync(new ListMySessionsRequest { PageSize = 1, PageToken = page1.NextPageToken });
        Assert.Equal(s1.SessionId, Assert.Single(page2.Sessions).Session.SessionId);
        Assert.Empty(page2.NextPageToken);

        var all = await learner.Sessions().ListMySessionsAsync(new ListMySessionsRequest());
        Assert.Equal([s2.SessionId, s1.SessionId], all.Sessions.Select(s => s.Session.SessionId));

        // Another learner's token is no token of this list; nor is garbage; a board member is no learner.
        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await other.Sessions().ListMySessionsAsync(
            new ListMySessionsRequest { PageSize = 1, PageToken = page1.NextPageToken }));
        Assert.Equal("page_token", Assert.Single(RpcAssert.FieldViolations(ex)).Field);
        await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await learner.Sessions().ListMySessionsAsync(new ListMySessionsRequest { PageToken = "%%" }));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await f.Journey.Sessions(TestTokens.Board("b", course)).ListMySessionsAsync(new ListMySessionsRequest()));
        Assert.DoesNotContain((await other.Sessions().ListMySessionsAsync(new ListMySessionsRequest())).Sessions, s => s.Session.LearnerId == learner.Id);
    }
}
