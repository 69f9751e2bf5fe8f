using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;

namespace Vigil.Session.Tests.Integration;

[Collection(SessionCollection.Name)]
public sealed class StreamTests(SessionFixture f)
{
    [Fact]
    public async Task A_dropped_client_reconnects_to_another_replica_and_resumes_from_the_last_acknowledged_save()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse());
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);

        var first = await learner.OpenStreamAsync(session.SessionId, 0, f.ReplicaA);
        await first.SaveAsync(1, "q1", ExamSamples.Choice("a"));
        await first.SaveAsync(2, "q2", ExamSamples.Text("Paris"));
        first.Drop();

        await using var second = await learner.OpenStreamAsync(session.SessionId, 2, f.ReplicaB);
        Assert.Equal(2, second.Opened.LastAckedSequence);
        Assert.Equal(SessionState.InProgress, second.Opened.State);
        // The client resends what it is unsure of: stored once; then goes on.
        Assert.Equal(SaveOutcome.Duplicate, (await second.SaveAsync(2, "q2", ExamSamples.Text("Paris"))).SaveAck.Outcome);
        Assert.Equal(SaveOutcome.Stored, (await second.SaveAsync(3, "q1", ExamSamples.Choice("b"))).SaveAck.Outcome);

        var receipt = (await learner.Sessions(f.ReplicaB).SubmitFinalCheckAsync(
            new SubmitFinalCheckRequest { RequestId = "fc", SessionId = session.SessionId, LastSaveSequence = 3 })).Receipt;
        Assert.Equal(3, receipt.Items[0].Sequence);
        Assert.Equal(2, receipt.Items[1].Sequence);
    }

    [Fact]
    public async Task A_heartbeat_gap_becomes_an_incident_that_ends_when_heartbeats_resume()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course, e =>
        {
            e.HeartbeatInterval = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(200));
            e.ConnectionLostAfter = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(700));
        });
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        var beat = await stream.HeartbeatAsync();
        Assert.True(beat.TimeLeft.ToTimeSpan() > TimeSpan.FromMinutes(29));

        // No heartbeat: the sweepers (either replica) open the incident, starting at the last heartbeat.
        var board = f.Board(course);
        Incident? lost = null;
        for (var i = 0; i < 50 && lost is null; i++)
        {
            await Task.Delay(100);
            var record = (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
            lost = record.Incidents.FirstOrDefault(x => x.Kind == IncidentKind.ConnectionLost);
        }
        Assert.NotNull(lost);
        Assert.Null(lost.EndedAt);
        var gap = beat.ServerTime.ToDateTimeOffset() - lost.StartedAt.ToDateTimeOffset();
        Assert.True(gap.Duration() < TimeSpan.FromMilliseconds(50), $"incident starts {gap} away from the last heartbeat");

        await stream.HeartbeatAsync();
        var after = (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
        var closed = Assert.Single(after.Incidents, x => x.Kind == IncidentKind.ConnectionLost);
        Assert.NotNull(closed.EndedAt);
        Assert.True(closed.EndedAt.ToDateTimeOffset() - closed.StartedAt.ToDateTimeOffset() >= TimeSpan.FromMilliseconds(700));

        // Heartbeats flow again for longer than the gap (the stream moves its heartbeat-due entry only once per
        // half gap, the sweepers move it in between): no false incident...
        for (var i = 0; i < 8; i++)
        {
            await Task.Delay(200);
            await stream.HeartbeatAsync();
        }
        var flowing = (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
        Assert.Single(flowing.Incidents, x => x.Kind == IncidentKind.ConnectionLost);

        // ...and when they stop again, a second incident: the entry the first one removed is back.
        Incident? second = null;
        for (var i = 0; i < 50 && second is null; i++)
        {
            await Task.Delay(100);
            var record = (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
            second = record.Incidents.FirstOrDefault(x => x.Kind == IncidentKind.ConnectionLost && x.EndedAt is null);
        }
        Assert.NotNull(second);
    }

    [Fact]
    public async Task Headphones_where_not_allowed_and_rule_signals_become_warnings_and_incidents()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);

        await stream.HeartbeatAsync(audio: AudioOutput.Headphones, focused: false);
        await stream.HeartbeatAsync(audio: AudioOutput.Headphones, focused: false);
        await stream.HeartbeatAsync();
        Assert.Single(stream.Warnings, w => w.Code == WarningCode.HeadphonesNotAllowed);
        Assert.Single(stream.Warnings, w => w.Code == WarningCode.FocusLost);

        var record = (await f.Board(course).GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
        var headphones = Assert.Single(record.Incidents, i => i.Kind == IncidentKind.Headphones);
        Assert.NotNull(headphones.EndedAt);
        Assert.Single(record.Incidents, i => i.Kind == IncidentKind.FocusLost);

        // Where the course allows headphones, they are no incident.
        var allowed = await f.CreateExamAsync(course, e => e.Rules = new ExamRules { HeadphonesAllowed = true });
        var other = await f.VerifiedLearnerAsync(allowed.ExamId);
        var s2 = await other.StartAsync(allowed.ExamId);
        await using var stream2 = await other.OpenStreamAsync(s2.SessionId);
        await stream2.HeartbeatAsync(audio: AudioOutput.Headphones);
        await stream2.HeartbeatAsync(audio: AudioOutput.Headphones);
        Assert.Empty(stream2.Warnings);
    }

    [Fact]
    public async Task Near_the_deadline_unvalidated_answers_bring_a_warning()
    {
        var exam = await f.CreateExamAsync(SessionFixture.NewCourse(), e => e.WarnBeforeDeadline = Duration.FromTimeSpan(TimeSpan.FromHours(1)));
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        await stream.HeartbeatAsync();
        Assert.Empty(stream.Warnings);
        await stream.SaveAsync(1, "q1", ExamSamples.Choice("b"));
        await stream.HeartbeatAsync();
        var w = Assert.Single(stream.Warnings);
        Assert.Equal(WarningCode.UnvalidatedAnswers, w.Code);
        Assert.Contains("final check", w.Message, StringComparison.Ordinal);
    }
}
