using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Storage;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Monitoring;

/// <summary>
/// The sweepers: a heartbeat gap longer than the exam allows (on the fake clock) becomes a connection-lost incident,
/// though most heartbeats are kept in memory by the replica holding the stream (written once per
/// <see cref="Slack"/>, the default Session:HeartbeatWriteFraction of the gap, or when a signal changes).
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class HeartbeatGapTests(SessionFixture f)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LostAfter = TimeSpan.FromSeconds(30);

    /// <summary>How long unwritten heartbeats may follow a written one: half the gap (Session:HeartbeatWriteFraction).</summary>
    private static readonly TimeSpan Slack = LostAfter / 2;

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

        // Past it, while the stream stays open (it may hold heartbeats it did not write for up to the slack), and past
        // the slack: the sweepers' loop (either replica) opens the incident, starting at the last heartbeat.
        f.Advance(Slack - SessionFixture.SweepInterval);
        await f.SweepNowAsync();
        Assert.Empty(await ConnectionLostAsync());
        f.Advance(SessionFixture.SweepInterval * 2);
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
        f.Advance(LostAfter + Slack + SessionFixture.SweepInterval);
        var second = await Eventually.ObjectAsync(async () => (await ConnectionLostAsync()).FirstOrDefault(x => x.EndedAt is null), () => "a second connection-lost incident");
        Assert.NotEqual(closed.StartedAt, second.StartedAt);
    }

    [Fact]
    public async Task A_heartbeating_learner_is_never_flagged_though_most_heartbeats_are_not_written_and_a_silent_one_is()
    {
        var (session, stream, board) = await StartAsync();
        var (db, hash) = SessionHash(session.SessionId);
        var first = await stream.HeartbeatAsync();
        Assert.Equal(first.ServerTime.ToDateTimeOffset().ToUnixTimeMilliseconds(), (long)await db.HashGetAsync(hash, "last_hb"));

        // Two minutes of heartbeats every 5 s, both replicas sweeping after each: no incident, and only one heartbeat in
        // three written (once per 15 s slack).
        var written = 0;
        HeartbeatReply last = first;
        for (var i = 0; i < 24; i++)
        {
            f.Advance(Interval);
            last = await stream.HeartbeatAsync();
            if ((long)await db.HashGetAsync(hash, "last_hb") == last.ServerTime.ToDateTimeOffset().ToUnixTimeMilliseconds()) written++;
            await f.SweepNowAsync();
        }
        Assert.Empty(await ConnectionLostAsync(board, session.SessionId));
        Assert.Equal(8, written);

        // Silent with the stream open: not before the gap, and by the gap + the slack (from the last one written, which
        // is at most the slack before the true last one).
        f.Advance(LostAfter - TimeSpan.FromMilliseconds(1));
        await f.SweepNowAsync();
        Assert.Empty(await ConnectionLostAsync(board, session.SessionId));
        f.Advance(Slack + SessionFixture.SweepInterval);
        await f.SweepNowAsync();
        var lost = Assert.Single(await ConnectionLostAsync(board, session.SessionId));
        var lastSeen = last.ServerTime.ToDateTimeOffset();
        Assert.InRange(lost.StartedAt.ToDateTimeOffset(), lastSeen - Slack, lastSeen);
    }

    [Fact]
    public async Task A_learner_whose_stream_ends_after_unwritten_heartbeats_is_flagged_at_the_gap_from_the_true_last_heartbeat()
    {
        var (session, stream, board) = await StartAsync();
        var (db, hash) = SessionHash(session.SessionId);
        var written = await stream.HeartbeatAsync();
        f.Advance(Interval);
        var unwritten = await stream.HeartbeatAsync();
        var unwrittenAt = unwritten.ServerTime.ToDateTimeOffset();
        Assert.Equal(written.ServerTime.ToDateTimeOffset().ToUnixTimeMilliseconds(), (long)await db.HashGetAsync(hash, "last_hb"));

        // The learner leaves: the replica writes the last heartbeat it saw, with no slack.
        await stream.DisposeAsync();
        await Eventually.Async(async () => (long)await db.HashGetAsync(hash, "last_hb") == unwrittenAt.ToUnixTimeMilliseconds(), "the last heartbeat written at the stream's end");

        f.Advance(LostAfter - TimeSpan.FromMilliseconds(1));
        await f.SweepNowAsync();
        Assert.Empty(await ConnectionLostAsync(board, session.SessionId));
        f.Advance(TimeSpan.FromMilliseconds(1));
        await f.SweepNowAsync();
        var lost = Assert.Single(await ConnectionLostAsync(board, session.SessionId));
        var off = unwrittenAt - lost.StartedAt.ToDateTimeOffset();
        Assert.True(off.Duration() < TimeSpan.FromMilliseconds(1), $"incident starts {off} away from the last heartbeat (unwritten until the stream ended)");
    }

    private async Task<(Vigil.Contracts.Session.V1.Session Session, ExamStreamClient Stream, ExamBoardService.ExamBoardServiceClient Board)> StartAsync()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course, e =>
        {
            e.HeartbeatInterval = Duration.FromTimeSpan(Interval);
            e.ConnectionLostAfter = Duration.FromTimeSpan(LostAfter);
        });
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);
        return (session, await learner.OpenStreamAsync(session.SessionId), f.Board(course));
    }

    private (IDatabase Db, RedisKey Hash) SessionHash(string sessionId) =>
        (f.ReplicaA.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase(),
            f.ReplicaA.Services.GetRequiredService<SessionKeys>().Session(sessionId).Hash);

    private static async Task<List<Incident>> ConnectionLostAsync(ExamBoardService.ExamBoardServiceClient board, string sessionId) =>
        [.. (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = sessionId })).Record.Incidents.Where(x => x.Kind == IncidentKind.ConnectionLost)];
}
