using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Storage;
using Vigil.Session.Audit;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Audit;

/// <summary>
/// At a learner's erasure the audit entries that name them keep their facts, the learner id replaced by one pseudonym
/// (the same for all their entries, kept nowhere else); no entry holds the id afterwards; a redelivered erasure
/// changes nothing; a pass cut short is finished with the same pseudonym; other learners' entries are left alone.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class AuditPseudonymisationTests(SessionFixture f)
{
    private async Task<List<AuditEntry>> TrailAsync(string course)
    {
        var entries = new List<AuditEntry>();
        var request = new ListAuditEntriesRequest { CourseId = course, PageSize = 100 };
        do
        {
            var page = await f.Journey.Board(TestTokens.Ops()).ListAuditEntriesAsync(request);
            entries.AddRange(page.Entries);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);
        return entries;
    }

    private Task GrantAsync(string course, string examId, string learnerId, string requestId) =>
        f.Exams(course).GrantExtraTimeAsync(new GrantExtraTimeRequest
        {
            RequestId = requestId, ExamId = examId, LearnerId = learnerId, ExtraTime = Duration.FromTimeSpan(TimeSpan.FromMinutes(10)), Reason = "dyslexia",
        }).ResponseAsync;

    [Fact]
    public async Task An_erased_learners_entries_keep_their_facts_under_one_pseudonym_and_a_redelivery_changes_nothing()
    {
        var course = SessionFixture.NewCourse();
        var one = await f.CreateExamAsync(course);
        var two = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(one.ExamId);
        var other = "learner-" + Guid.NewGuid().ToString("N")[..8];
        await GrantAsync(course, one.ExamId, learner.Id, "g1");
        await f.Exams(course).GrantAllowanceAsync(new GrantAllowanceRequest
        {
            RequestId = "a1", ExamId = two.ExamId, LearnerId = learner.Id, TimeMultiplier = 1.5, Reason = "hearing aid",
        });
        await GrantAsync(course, one.ExamId, other, "g2");
        // An attempt reset names the session, not the learner.
        var session = await learner.StartAsync(one.ExamId);
        await f.Journey.SubmitAsync(learner, session.SessionId, 0);
        await f.Exams(course).ResetAttemptAsync(new ResetAttemptRequest { RequestId = "r1", ExamId = one.ExamId, LearnerId = learner.Id, Reason = "fire alarm" });
        var before = await TrailAsync(course);
        Assert.Equal(2, before.Count(e => e.LearnerId == learner.Id));

        var trail = f.ReplicaA.Services.GetRequiredService<AuditTrail>();
        Assert.Equal(2, await trail.PseudonymiseLearnerAsync(learner.Id));

        var after = await TrailAsync(course);
        // Every entry is still there, in the same order, with the same facts; the learner's two name one pseudonym.
        Assert.Equal(before.Select(e => (e.EntryId, e.Kind, e.Actor, e.At, e.ExamId, e.SessionId)), after.Select(e => (e.EntryId, e.Kind, e.Actor, e.At, e.ExamId, e.SessionId)));
        var theirs = after.Where(e => before.Single(b => b.EntryId == e.EntryId).LearnerId == learner.Id).ToList();
        Assert.Equal([AuditActionKind.ExtraTimeGranted, AuditActionKind.AllowanceGranted], theirs.Select(e => e.Kind).Order());
        var pseudonym = Assert.Single(theirs.Select(e => e.LearnerId).Distinct());
        Assert.Matches("^erased-[0-9a-f]{32}$", pseudonym);
        Assert.Equal(other, Assert.Single(after, e => e.Kind == AuditActionKind.ExtraTimeGranted && e.ExamId == one.ExamId && e.LearnerId != pseudonym).LearnerId);
        Assert.Equal(before.Where(e => e.LearnerId != learner.Id), after.Where(e => e.LearnerId != pseudonym));

        // No audit key holds the learner id any more (their index is gone too), and the pseudonym is kept nowhere but in the entries.
        var redis = f.ReplicaA.Services.GetRequiredService<RedisStorage>();
        var hits = await KeyspaceScan.FindAsync(redis.Database.Multiplexer, f.KeyPrefix + "*audit*", new Dictionary<string, string> { ["learner"] = learner.Id });
        Assert.True(hits.Count == 0, KeyspaceScan.Describe(hits));
        var holders = await KeyspaceScan.FindAsync(redis.Database.Multiplexer, f.KeyPrefix + "*", new Dictionary<string, string> { ["pseudonym"] = pseudonym });
        Assert.Equal(new[] { redis.Keys.Record("exam", one.ExamId).Part("audit").ToString(), redis.Keys.Record("exam", two.ExamId).Part("audit").ToString() }.Order(),
            holders.Select(h => h.Key).Order());

        // A redelivered erasure finds nothing to do: every entry is as it was.
        Assert.Equal(0, await trail.PseudonymiseLearnerAsync(learner.Id));
        Assert.Equal(after, await TrailAsync(course));
    }

    [Fact]
    public async Task A_pass_cut_short_is_finished_with_the_pseudonym_it_had_begun_with()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = "learner-" + Guid.NewGuid().ToString("N")[..8];
        await GrantAsync(course, exam.ExamId, learner, "g1");
        f.Advance(TimeSpan.FromSeconds(1));
        await GrantAsync(course, exam.ExamId, learner, "g2");

        // The first pass rewrote one entry, then stopped (its index is still there).
        var redis = f.ReplicaA.Services.GetRequiredService<RedisStorage>();
        var hash = redis.Keys.Record("exam", exam.ExamId).Part("audit");
        var first = (await redis.Database.HashGetAllAsync(hash)).Select(e => (Id: e.Name, Entry: AuditEntry.Parser.ParseFrom((byte[])e.Value!)))
            .First(e => e.Entry.LearnerId == learner);
        var begun = "erased-" + Guid.NewGuid().ToString("N");
        first.Entry.LearnerId = begun;
        await redis.Database.HashSetAsync(hash, first.Id, first.Entry.ToByteArray());

        var trail = f.ReplicaA.Services.GetRequiredService<AuditTrail>();
        Assert.Equal(1, await trail.PseudonymiseLearnerAsync(learner));
        var entries = (await TrailAsync(course)).Where(e => e.Kind == AuditActionKind.ExtraTimeGranted).ToList();
        Assert.Equal([begun, begun], entries.Select(e => e.LearnerId));
        Assert.False(await redis.Database.KeyExistsAsync(trail.LearnerIndexKey(learner)));
    }
}
