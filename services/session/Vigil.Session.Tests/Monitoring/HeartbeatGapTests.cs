using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Monitoring;

/// <summary>The sweepers: a heartbeat gap longer than the exam allows (on the fake clock) becomes a connection-lost incident.</summary>
[Collection(SessionCollection.Name)]
public sealed class HeartbeatGapTests(SessionFixture f)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LostAfter = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_heartbeat_gap_becomes_an_incident_that_ends_when_heartbeats_resume()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course, e =>
        {
            e.HeartbeatInterval = Duration.FromTimeSpan(Interval);
            e.ConnectionLostAfter = Duration.FromTimeSpan(LostAfter);
        });
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        await using var stream = await learner.OpenStreamAsync(session.SessionId);
        var beat = await stream.HeartbeatAsync();
        Assert.True(beat.TimeLeft.ToTimeSpan() > TimeSpan.FromMinutes(29));
        var board = f.Board(course);
        async Task<List<Incident>> ConnectionLostAsync() =>
            [.. (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record.Incidents.Where(x => x.Kind == IncidentKind.ConnectionLost)];

        // Just under the gap: nothing.
        f.Advance(LostAfter - TimeSpan.FromMilliseconds(1));
        await f.SweepNowAsync();
        Assert.Empty(await ConnectionLostAsync());

        // Past it, without a heartbeat: the sweepers' loop (either replica) opens the incident, starting at the last heartbeat.
        f.Advance(SessionFixture.SweepInterval);
        var lost = await Eventually.ObjectAsync(async () => (await ConnectionLostAsync()).SingleOrDefault(), () => "a connection-lost incident");
        Assert.Null(lost.EndedAt);
        var gap = beat.ServerTime.ToDateTimeOffset() - lost.StartedAt.ToDateTimeOffset();
        Assert.True(gap.Duration() < TimeSpan.FromMilliseconds(1), $"incident starts {gap} away from the last heartbeat");

        await stream.HeartbeatAsync();
        var closed = Assert.Single(await ConnectionLostAsync());
        Assert.NotNull(closed.EndedAt);
        Assert.True(closed.EndedAt.ToDateTimeOffset() - closed.StartedAt.ToDateTimeOffset() >= LostAfter);

        // Heartbeats flow again for longer than the gap (the stream moves its heartbeat-due entry only once per
        // half gap, the sweepers move it in between), a sweep after each: no false incident...
        for (var i = 0; i < 8; i++)
        {
            f.Advance(Interval);
            await stream.HeartbeatAsync();
            await f.SweepNowAsync();
        }
        Assert.Single(await ConnectionLostAsync());

        // ...and when they stop again, a second incident: the entry the first one removed is back.
        f.Advance(LostAfter + SessionFixture.SweepInterval);
        var second = await Eventually.ObjectAsync(async () => (await ConnectionLostAsync()).FirstOrDefault(x => x.EndedAt is null), () => "a second connection-lost incident");
        Assert.NotEqual(closed.StartedAt, second.StartedAt);
    }
}
