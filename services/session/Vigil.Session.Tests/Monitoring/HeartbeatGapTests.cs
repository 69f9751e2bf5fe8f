using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;

namespace Vigil.Session.Tests.Monitoring;

/// <summary>The sweepers: a heartbeat gap longer than the exam allows becomes a connection-lost incident.</summary>
[Collection(SessionCollection.Name)]
public sealed class HeartbeatGapTests(SessionFixture f)
{
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
}
