using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using StackExchange.Redis;
using Vigil.Contracts.Certificate.V1;
using Events = Vigil.Contracts.Events;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// The right to erasure across every real process (issue 17, docs/privacy.md): a learner with two finished exams is
/// erased by one ops request; afterwards no key in the whole Redis keyspace holds their id, email, the email's
/// digest, name, photos or answers; the board's view and the dashboard say the data was erased; the request is complete
/// in every service; and the learner's old events, re-published byte for byte, bring nothing back.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class ErasureTests(EndToEndStack stack) : IDisposable
{
    private readonly Journey _journey = stack.NewJourney();

    [Fact]
    public async Task A_learner_with_two_finished_exams_is_erased_everywhere_and_replayed_events_bring_nothing_back()
    {
        await using var probe = await EventProbe.StartAsync(TestEnvironment.RabbitMq("e2e"), "e2e-erasure-probe");
        var course = Journey.Id("course");
        var board = TestTokens.Board(Journey.Id("board"), course);
        var ops = _journey.Erasure(TestTokens.Ops("ops-1"));
        var learner = await _journey.RegisteredLearnerAsync("Erasure Subject " + Guid.NewGuid().ToString("N")[..6]);
        var answers = new List<string>();
        var sessions = new List<StartedLearner>();
        for (var i = 0; i < 2; i++)
        {
            var exam = await _journey.StandardExamAsync(course);
            await _journey.VerifyAsync(learner, exam.ExamId, seed: i + 1);
            var session = await learner.StartAsync(exam.ExamId);
            var text = $"answer {i} of the erased learner {Guid.NewGuid():N}";
            answers.Add(text);
            var last = await _journey.SaveAnswersAsync(learner, session.SessionId, ("q1", TestAnswers.Choice("b")), ("q2", TestAnswers.Text(text)), ("q3", TestAnswers.Number(42)));
            await _journey.SubmitAsync(learner, session.SessionId, last);
            sessions.Add(new StartedLearner(learner, exam, session.SessionId));
            await _journey.AwaitReviewableAsync(board, course, session.SessionId);
        }
        var ids = sessions.Select(s => s.SessionId).ToList();

        // Never half-erased: while the board has not decided, the request is refused, naming each session.
        var refused = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () =>
            await ops.StartErasureAsync(new StartErasureRequest { RequestId = Journey.RequestId(), LearnerId = learner.Id }));
        Assert.Equal(ids.Select(id => ("BOARD_DECISION_PENDING", "sessions/" + id)).Order(),
            RpcAssert.PreconditionViolations(refused).Select(v => (v.Type, v.Subject)).Order());

        var codes = new List<string>();
        foreach (var s in sessions)
        {
            await _journey.DecideAsync(s, DecisionOutcome.Valid);
            codes.Add((await _journey.AwaitEntryAsync(learner.Token, s.SessionId, e => e.Status == ResultStatus.Certified)).Certificate.VerificationCode);
        }
        var reviewPhoto = (await _journey.Board(board).GetReviewPhotoAsync(new GetReviewPhotoRequest { SessionId = ids[0], Kind = ReviewPhotoKind.IdDocument })).Data.ToByteArray();
        var needles = await NeedlesAsync(learner, answers, reviewPhoto);
        Assert.NotEmpty(await ScanAsync(needles)); // the scan finds the learner while they are there

        // One request, by ops.
        var requestId = Journey.RequestId();
        var start = new StartErasureRequest { RequestId = requestId, LearnerId = learner.Id, Reference = "ticket-4711" };
        var started = (await ops.StartErasureAsync(start)).Erasure;
        Assert.Equal((requestId, learner.Id, "ops-1", ErasureState.Pending), (started.RequestId, started.LearnerId, started.RequestedBy, started.State));
        var done = await Eventually.ObjectAsync(async () =>
        {
            var e = (await ops.GetErasureAsync(new GetErasureRequest { RequestId = requestId })).Erasure;
            return e.State == ErasureState.Complete ? e : null;
        }, () => "the erasure request to complete in every service; " + stack.Logs());
        Assert.Equal(string.Empty, done.LearnerId);
        Assert.Equal("ticket-4711", done.Reference);
        // identity: 4 photos, 2 verifications, the record; session: 2 sessions; certificate: 2 dashboard entries.
        Assert.Equal([("identity", ErasureState.Complete, 7), ("session", ErasureState.Complete, 2), ("certificate", ErasureState.Complete, 2)],
            done.Services.Select(p => (p.Service, p.State, p.RecordsErased)));
        // The same request id again answers the same, complete request (nothing sent again).
        var again = (await ops.StartErasureAsync(start)).Erasure;
        Assert.Equal((ErasureState.Complete, started.RequestedAt, string.Empty), (again.State, again.RequestedAt, again.LearnerId));

        await AssertErasedAsync(needles, learner, board, course, ids, codes);

        // Old events of the learner, re-published byte for byte to their consumers, bring nothing back.
        var replayed = 0;
        foreach (var e in probe.Of(nameof(Events.SessionSubmitted), ids))
        {
            await probe.RedeliverAsync(e, Events.EventTopology.CertificateSessionSubmittedQueue);
            replayed++;
        }
        foreach (var e in probe.Of(nameof(Events.BoardDecisionRecorded), ids))
        {
            await probe.RedeliverAsync(e, Events.EventTopology.CertificateBoardDecisionRecordedQueue);
            await probe.RedeliverAsync(e, Events.EventTopology.IdentityBoardDecisionRecordedQueue);
            replayed++;
        }
        Assert.Equal(4, replayed);
        var certificate = stack.Processes.Certificate!;
        foreach (var e in probe.Of(nameof(Events.SessionSubmitted), ids).Concat(probe.Of(nameof(Events.BoardDecisionRecorded), ids)))
        {
            Assert.True(await certificate.CountLinesAsync(l => l.Contains(e.EventId, StringComparison.Ordinal) && l.Contains($"for session {e.SessionId}: Erased", StringComparison.Ordinal), 1, TimeSpan.FromSeconds(30)) >= 1,
                $"the certificate service to log the replayed {e.Type} {e.EventId} as Erased; its lines about the session:\n"
                + string.Join("\n", certificate.Output.Split('\n').Where(l => l.Contains(e.SessionId, StringComparison.Ordinal) || l.Contains(e.EventId, StringComparison.Ordinal))));
        }
        foreach (var id in ids)
        {
            Assert.True(await stack.Processes.Identity.CountLinesAsync(l => l.Contains($"session {id}: 0 photos", StringComparison.Ordinal), 1, TimeSpan.FromSeconds(30)) >= 1,
                $"the identity service to find no photo left for the replayed decision on {id}");
        }
        await AssertErasedAsync(needles, learner, board, course, ids, codes);
    }

    /// <summary>Everything that would betray the learner if a key still held it, as the bytes Redis would hold.</summary>
    private static async Task<Dictionary<string, byte[]>> NeedlesAsync(TestLearner learner, IReadOnlyList<string> answers, byte[] reviewPhoto)
    {
        var email = $"{learner.Id}@example.org";
        var needles = new Dictionary<string, byte[]>
        {
            ["learner id"] = Encoding.UTF8.GetBytes(learner.Id),
            ["email"] = Encoding.UTF8.GetBytes(email),
            ["canonical email hash"] = Encoding.UTF8.GetBytes(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.ToLowerInvariant())))),
            ["name"] = Encoding.UTF8.GetBytes(learner.Name),
            ["photo as the board saw it"] = reviewPhoto.AsSpan(reviewPhoto.Length / 2, 64).ToArray(),
        };
        for (var i = 0; i < answers.Count; i++) needles[$"answer {i}"] = Encoding.UTF8.GetBytes(answers[i]);
        // The photos as stored (sealed): a slice of every large value under the learner's identity keys.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        var photo = 0;
        foreach (var server in redis.GetServers().Where(s => !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(pattern: "vigil:identity:*" + learner.Id + "*:photo:ph_*"))
            {
                foreach (var field in await redis.GetDatabase().HashGetAllAsync(key))
                {
                    var bytes = (byte[])field.Value!;
                    if (bytes.Length > 1024) needles[$"stored photo {photo++}"] = bytes.AsSpan(bytes.Length / 2, 64).ToArray();
                }
            }
        }
        Assert.True(photo >= 4, $"{photo} stored photo values found");
        return needles;
    }

    /// <summary>Every hit of a needle in the whole keyspace (every key, every prefix, every service).</summary>
    private static async Task<IReadOnlyList<KeyspaceHit>> ScanAsync(IReadOnlyDictionary<string, byte[]> needles)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        return await KeyspaceScan.FindAsync(redis, "*", needles);
    }

    private async Task AssertErasedAsync(IReadOnlyDictionary<string, byte[]> needles, TestLearner learner, string board, string course, IReadOnlyList<string> ids, IReadOnlyList<string> codes)
    {
        var hits = await ScanAsync(needles);
        Assert.True(hits.Count == 0, "Left in Redis after the erasure:\n" + KeyspaceScan.Describe(hits));

        // The board sees what is left: the sessions, their outcomes, and that the learner's data was erased.
        var list = await _journey.Board(board).ListSessionsForReviewAsync(new ListSessionsForReviewRequest { CourseId = course });
        Assert.Equal(ids.Order(), list.Sessions.Select(s => s.Session.SessionId).Order());
        Assert.All(list.Sessions, s => Assert.True(s.ErasedAt is not null && s.Session.LearnerId.Length == 0 && s.LatestDecision.Outcome == DecisionOutcome.Valid));
        foreach (var id in ids)
        {
            var record = (await _journey.Board(board).GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = id })).Record;
            Assert.NotNull(record.ErasedAt);
            Assert.Equal((string.Empty, 0, 0, false), (record.Session.LearnerId, record.Answers.Count, record.Incidents.Count, record.Receipt is not null));
            var photo = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () =>
                await _journey.Board(board).GetReviewPhotoAsync(new GetReviewPhotoRequest { SessionId = id, Kind = ReviewPhotoKind.IdDocument }));
            Assert.Equal("SESSION_ERASED", Assert.Single(RpcAssert.PreconditionViolations(photo)).Type);
        }

        // The learner's dashboard says so; their certificates verify as withdrawn, with nothing of them shown.
        var dashboard = await learner.Dashboard().GetDashboardAsync(new GetDashboardRequest());
        Assert.Empty(dashboard.Entries);
        Assert.NotNull(dashboard.DataErasedAt);
        foreach (var code in codes)
        {
            var verdict = await _journey.Verification().VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = code });
            Assert.Equal(VerificationResult.Withdrawn, verdict.Result);
            Assert.Null(verdict.Certificate);
        }
    }

    public void Dispose() => _journey.Dispose();
}
