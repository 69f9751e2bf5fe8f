using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Review;
using Vigil.Session.Storage;

namespace Vigil.Session.Tests.Storage;

/// <summary>Every branch of RequestSecondLook.lua and Decide.lua's second-look branches (same member, changed, closed).</summary>
public sealed partial class SessionStoreTests
{
    private static SecondLook Look(string by) => new() { RequestedBy = by, RequestedAt = Timestamp.FromDateTimeOffset(T0.AddMinutes(70)), Notes = "why" };

    private static BoardDecision Decision(string by, long version) =>
        new() { Version = version, Outcome = DecisionOutcome.Valid, DecidedBy = by, DecidedAt = Timestamp.FromDateTimeOffset(T0.AddMinutes(80)) };

    [Fact]
    public async Task A_second_look_opens_once_is_refused_to_its_member_and_closed_by_another_members_decision()
    {
        var s = New();
        var id = await StartAsync(s);
        Assert.Equal(new SecondLookReply(SecondLookStatus.InProgress), await s.Store.RequestSecondLookAsync(id, "sl:1", Look("m1")));
        var session = (await s.Store.GetAsync(id))!;
        Assert.Equal(FinishStatus.Finished, (await s.Store.FinishAsync(id, Ending(FinishMode.FinalCheck, session, T0.AddMinutes(10), SessionState.Submitted, 0))).Status);

        Assert.Equal(new SecondLookReply(SecondLookStatus.Recorded, 1), await s.Store.RequestSecondLookAsync(id, "sl:1", Look("m1")));
        Assert.Equal(new SecondLookReply(SecondLookStatus.Duplicate, 1), await s.Store.RequestSecondLookAsync(id, "sl:1", Look("m1")));
        Assert.Equal(new SecondLookReply(SecondLookStatus.AlreadyOpen, OpenBy: "m1"), await s.Store.RequestSecondLookAsync(id, "sl:2", Look("m2")));
        Assert.Equal("m1", (await s.Store.GetAsync(id))!.SecondLookBy);
        await s.Store.IndexForReviewAsync(id);
        var courseId = (await s.Store.GetAsync(id))!.CourseId;
        Assert.Single(await s.Store.ReadReviewSetAsync(courseId, ReviewFilter.SecondLook, null, 10));

        // The member who asked: refused, nothing written.
        Assert.Equal(new DecisionReply(DecisionStatus.SameMember, Member: "m1"),
            await s.Store.DecideAsync(id, "d:1", 0, Decision("m1", 1), Expired(id), T0.AddMinutes(80), 1, Look("m1")));
        // Another member who read no open second look (or another count): read again.
        Assert.Equal(new DecisionReply(DecisionStatus.SecondLookChanged), await s.Store.DecideAsync(id, "d:2", 0, Decision("m2", 1), Expired(id), T0.AddMinutes(80)));
        Assert.Equal(new DecisionReply(DecisionStatus.SecondLookChanged), await s.Store.DecideAsync(id, "d:2", 0, Decision("m2", 1), Expired(id), T0.AddMinutes(80), 2, Look("m1")));
        Assert.Empty(await s.Store.GetDecisionsAsync(id));

        var closed = Look("m1");
        closed.ClosedBy = "m2";
        closed.ClosedAt = Timestamp.FromDateTimeOffset(T0.AddMinutes(80));
        closed.ClosedByVersion = 1;
        Assert.Equal(new DecisionReply(DecisionStatus.Recorded, 1), await s.Store.DecideAsync(id, "d:3", 0, Decision("m2", 1), Expired(id), T0.AddMinutes(80), 1, closed));
        Assert.Equal([closed], await s.Store.GetSecondLooksAsync(id));
        Assert.Null((await s.Store.GetAsync(id))!.SecondLookBy);
        await s.Store.IndexForReviewAsync(id);
        Assert.Empty(await s.Store.ReadReviewSetAsync(courseId, ReviewFilter.SecondLook, null, 10));

        // Closed, a new one may open (the second entry).
        Assert.Equal(new SecondLookReply(SecondLookStatus.Recorded, 2), await s.Store.RequestSecondLookAsync(id, "sl:3", Look("m2")));
        Assert.Equal(new SecondLookReply(SecondLookStatus.Missing), await s.Store.RequestSecondLookAsync("ses-missing", "sl:4", Look("m2")));
    }
}
