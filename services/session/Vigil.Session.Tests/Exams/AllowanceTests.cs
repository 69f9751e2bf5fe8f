using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Exams;

/// <summary>
/// GrantAllowance: a time multiplier, a grace period after the deadline (saves accepted in it, then the deadline
/// policy), rules allowed to one learner only, who granted it and why, on the audit trail. Time from the fake clock.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class AllowanceTests(SessionFixture f)
{
    private static GrantAllowanceRequest Grant(Exam exam, string learnerId, double multiplier, TimeSpan grace, bool headphones, string requestId = "a1") => new()
    {
        RequestId = requestId, ExamId = exam.ExamId, LearnerId = learnerId, TimeMultiplier = multiplier, GracePeriod = Duration.FromTimeSpan(grace),
        AllowedRules = new ExamRules { HeadphonesAllowed = headphones }, Reason = "hearing aid; slow reader",
    };

    [Fact]
    public async Task A_multiplier_and_a_grace_period_move_the_end_saves_count_in_the_grace_then_the_policy_applies_and_headphones_are_allowed_to_that_learner_only()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course, e => e.DeadlinePolicy = DeadlinePolicy.SubmitSaved);
        var allowed = await f.VerifiedLearnerAsync(exam.ExamId);
        var other = await f.VerifiedLearnerAsync(exam.ExamId);
        var granted = (await f.Exams(course).GrantAllowanceAsync(Grant(exam, allowed.Id, 1.5, TimeSpan.FromMinutes(2), headphones: true))).Allowance;
        Assert.Equal(("staff-1", "hearing aid; slow reader", 1.5), (granted.GrantedBy, granted.Reason, granted.TimeMultiplier));
        Assert.Equal(f.Clock.GetUtcNow(), granted.GrantedAt.ToDateTimeOffset());

        var session = await allowed.StartAsync(exam.ExamId);
        var plain = await other.StartAsync(exam.ExamId);
        Assert.Equal(TimeSpan.FromMinutes(45), session.Deadline.ToDateTimeOffset() - session.StartedAt.ToDateTimeOffset());
        Assert.Equal(TimeSpan.FromMinutes(30), plain.Deadline.ToDateTimeOffset() - plain.StartedAt.ToDateTimeOffset());

        await using var stream = await allowed.OpenStreamAsync(session.SessionId);
        await using var otherStream = await other.OpenStreamAsync(plain.SessionId);
        await stream.HeartbeatAsync(audio: AudioOutput.Headphones);
        await otherStream.HeartbeatAsync(audio: AudioOutput.Headphones);
        var board = f.Board(course);
        Assert.DoesNotContain((await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record.Incidents, i => i.Kind == IncidentKind.Headphones);
        Assert.Contains((await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = plain.SessionId })).Record.Incidents, i => i.Kind == IncidentKind.Headphones);

        // Past the deadline, inside the grace period: a save is still acknowledged and the sweep leaves the session running.
        f.Advance(TimeSpan.FromMinutes(45) + TimeSpan.FromSeconds(30));
        var inGrace = await stream.SaveAsync(1, "q1", TestAnswers.Choice("b"));
        Assert.Equal(1L, inGrace.Sequence);
        await f.SweepNowAsync();
        Assert.Equal(SessionState.InProgress, (await allowed.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId })).Session.State);

        // At the end of the grace period the exam's policy applies (submit saved): the save made in the grace counts.
        f.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(30) + SessionFixture.SweepInterval);
        await f.SweepNowAsync();
        await f.WaitForStateAsync(allowed, session.SessionId, s => s == SessionState.ExpiredSubmitted);
        var receipt = (await allowed.Sessions().GetReceiptAsync(new GetReceiptRequest { SessionId = session.SessionId })).Receipt;
        Assert.True(receipt.Items.Single(i => i.QuestionId == "q1").Ticked);
        var late = await stream.SaveOnceAsync(2, "q2", TestAnswers.Text("Paris"));
        Assert.Equal(StreamExamResponse.MessageOneofCase.SaveRejected, late.MessageCase);
    }

    [Fact]
    public async Task An_allowance_granted_during_the_exam_moves_its_deadline_is_kept_with_who_and_why_and_is_audited_once()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var staff = f.Exams(course);
        await staff.GrantExtraTimeAsync(new GrantExtraTimeRequest
        {
            RequestId = "x", ExamId = exam.ExamId, LearnerId = learner.Id, ExtraTime = Duration.FromTimeSpan(TimeSpan.FromMinutes(10)), Reason = "r",
        });
        var session = await learner.StartAsync(exam.ExamId);
        Assert.Equal(TimeSpan.FromMinutes(40), session.Deadline.ToDateTimeOffset() - session.StartedAt.ToDateTimeOffset());
        await RpcAssert.ThrowsAsync(StatusCode.NotFound, async () => await staff.GetAllowanceAsync(new GetAllowanceRequest { ExamId = exam.ExamId, LearnerId = learner.Id }));

        var request = Grant(exam, learner.Id, 2, TimeSpan.Zero, headphones: true);
        await staff.GrantAllowanceAsync(request);
        await staff.GrantAllowanceAsync(request);
        var read = await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId });
        Assert.Equal(TimeSpan.FromMinutes(70), read.Session.Deadline.ToDateTimeOffset() - read.Session.StartedAt.ToDateTimeOffset());
        // Extra time granted later still counts on top of the multiplied time limit.
        await staff.GrantExtraTimeAsync(new GrantExtraTimeRequest
        {
            RequestId = "y", ExamId = exam.ExamId, LearnerId = learner.Id, ExtraTime = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)), Reason = "r",
        });
        read = await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId });
        Assert.Equal(TimeSpan.FromMinutes(65), read.Session.Deadline.ToDateTimeOffset() - read.Session.StartedAt.ToDateTimeOffset());

        var kept = (await staff.GetAllowanceAsync(new GetAllowanceRequest { ExamId = exam.ExamId, LearnerId = learner.Id })).Allowance;
        Assert.Equal(("staff-1", "hearing aid; slow reader", 2.0, true), (kept.GrantedBy, kept.Reason, kept.TimeMultiplier, kept.AllowedRules.HeadphonesAllowed));
        var entries = (await f.Board(course).ListAuditEntriesAsync(new ListAuditEntriesRequest { CourseId = course, Kinds = { AuditActionKind.AllowanceGranted } })).Entries;
        var entry = Assert.Single(entries);
        Assert.Equal(("staff-1", AuditActorRole.Staff, learner.Id, "allowance: time x2, no grace period, allowed: headphones"), (entry.Actor, entry.ActorRole, entry.LearnerId, entry.Summary));

        var bad = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await staff.GrantAllowanceAsync(new GrantAllowanceRequest
        {
            RequestId = "b", ExamId = exam.ExamId, LearnerId = learner.Id, TimeMultiplier = 0.5, GracePeriod = Duration.FromTimeSpan(TimeSpan.FromHours(3)),
        }));
        Assert.Equal(["grace_period", "reason", "time_multiplier"], RpcAssert.FieldViolations(bad).Select(v => v.Field).Order());
        var outsider = f.Journey.Exams(TestTokens.Staff("staff-9", SessionFixture.NewCourse()));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await outsider.GrantAllowanceAsync(Grant(exam, learner.Id, 2, TimeSpan.Zero, false, "o")));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await outsider.GetAllowanceAsync(new GetAllowanceRequest { ExamId = exam.ExamId, LearnerId = learner.Id }));
        Assert.Single((await f.Board(course).ListAuditEntriesAsync(new ListAuditEntriesRequest { CourseId = course, Kinds = { AuditActionKind.AllowanceGranted } })).Entries);
    }
}
