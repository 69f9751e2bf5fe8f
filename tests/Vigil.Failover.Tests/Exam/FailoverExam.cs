using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Failover.Tests.Exam;

/// <summary>What one failover run saw, for the assertions and for <c>docs/reliability.md</c>.</summary>
internal sealed record FailoverFigures(
    string Topology,
    int AcknowledgeReplicas,
    int Learners,
    int LearnersOnKilledPrimary,
    int AckedBeforePause,
    int AckedWhileReplicaPaused,
    int AttemptsWhileReplicaPaused,
    int RefusedWhileReplicaPaused,
    int AckedAtPromotion,
    int MissingAtPromotion,
    TimeSpan Promotion,
    int AckedInAll,
    int AckedAfterPromotion,
    IReadOnlyDictionary<string, int> Endings,
    int EndingsWithRetryInfo,
    int NonRetryable,
    IReadOnlyList<string> NonRetryableDetails,
    int Refusals,
    int ReceiptsChecked,
    int MissingFromReceipts,
    int Decisions,
    int DecisionsDuringFailover,
    int DashboardsWithOneDecidedEntry,
    int DecisionEventsDistinct,
    int ReadinessNotReady,
    TimeSpan ReadinessReadyAgain,
    TimeSpan ReadinessSlowest)
{
    public override string ToString() =>
        $"{Topology}, AcknowledgeReplicas={AcknowledgeReplicas}: {Learners} learners saving ({LearnersOnKilledPrimary} on the killed primary); " +
        $"acknowledged before the replica was paused {AckedBeforePause}, while it was paused {AckedWhileReplicaPaused} of {AttemptsWhileReplicaPaused} sent by the killed primary's learners (streams or opens refused meanwhile {RefusedWhileReplicaPaused}); " +
        $"promoted after {Promotion.TotalSeconds:0.0} s; acknowledged at the promotion {AckedAtPromotion}, missing right after it {MissingAtPromotion}; " +
        $"acknowledged in all {AckedInAll} ({AckedAfterPromotion} after the promotion); stream/open endings: {string.Join(", ", Endings.Select(e => $"{e.Key} {e.Value}"))} " +
        $"({EndingsWithRetryInfo} with RetryInfo), non-retryable {NonRetryable}{(NonRetryable > 0 ? " (" + string.Join(" | ", NonRetryableDetails) + ")" : "")}, refused saves {Refusals}; receipts checked {ReceiptsChecked}, acknowledged saves missing from them {MissingFromReceipts}; " +
        $"decisions {Decisions} ({DecisionsDuringFailover} recorded as the primary died), dashboards with exactly one decided entry {DashboardsWithOneDecidedEntry}, distinct decision events {DecisionEventsDistinct}; " +
        $"a session replica's readiness: not ready {ReadinessNotReady} times after the kill, ready again {ReadinessReadyAgain.TotalSeconds:0.0} s after it, slowest answer {ReadinessSlowest.TotalMilliseconds:0} ms";
}

/// <summary>
/// An exam through a Redis failover, with real processes (identity, two session replicas, certificate, a gateway)
/// on a real <see cref="RedisTopology"/>: learners save without pause through the gateway (<see cref="SavingLearner"/>);
/// the replica of the primary that holds the most of their sessions is stopped and cut off (SIGSTOP, and the primary
/// drops its link: <see cref="RedisTopology.DelayReplicaAsync"/>) so that replication lags for real, the learners go on; the primary is killed (SIGKILL) and the replica resumed, while board decisions are
/// being recorded; right after the promotion every session is read and every acknowledged save looked for; the
/// killed node comes back (as a replica of the promoted one), the learners go on, then submit, the board decides,
/// and the receipts and dashboards are checked.
/// </summary>
internal static class FailoverExam
{
    private const int Learners = 8;
    private const int Deciders = 3;
    private const int Questions = 1500;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    public static async Task<FailoverFigures> RunAsync(RedisTopology topology, int acknowledgeReplicas, bool toTheEnd, ITestOutputHelper output)
    {
        var topologyName = topology.IsCluster ? "Redis Cluster (3 primaries, 3 replicas)" : "primary + replica under 3 redis-sentinel";
        await using var stack = await ProcessStack.StartAsync(new ProcessStackOptions
        {
            Redis = topology.Configuration,
            RabbitMqUri = TestEnvironment.RabbitMq("failover"),
            Sessions = 2,
            Certificate = toTheEnd,
            Settings = new Dictionary<string, string?>
            {
                ["Redis:AcknowledgeReplicas"] = acknowledgeReplicas.ToString(CultureInfo.InvariantCulture),
                ["Redis:AcknowledgeTimeout"] = "00:00:00.500",
            },
        });
        try
        {
            return await RunAsync(stack, topology, topologyName, acknowledgeReplicas, toTheEnd, output);
        }
        catch
        {
            output.WriteLine(stack.Logs(60));
            throw;
        }
        finally
        {
            // Every process's output, for whoever reads a failure (the test prints where).
            await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "vigil-failover-last-run.log"), stack.Logs(100_000));
        }
    }

    private static async Task<FailoverFigures> RunAsync(ProcessStack stack, RedisTopology topology, string topologyName, int acknowledgeReplicas, bool toTheEnd, ITestOutputHelper output)
    {
        await using var probe = toTheEnd ? await EventProbe.StartAsync(TestEnvironment.RabbitMq("failover"), "vigil-failover-probe") : null;
        using var journey = new Journey(stack);
        await using var readiness = new ReadinessWatch(stack.Sessions[0]!.HttpAddress);
        var exam = await journey.CreateExamAsync(ExamBuilder.Numbered(Journey.Id("course"), Questions));
        var savers = (await Task.WhenAll(Enumerable.Range(0, Learners).Select(i => journey.StartedAsync(exam, seed: i))))
            .Select(l => new SavingLearner(l, stack.Gateway.GrpcAddress, Questions)).ToList();
        // Sessions submitted before the failover, whose decisions are recorded while the primary dies.
        var submitted = new List<StartedLearner>();
        if (toTheEnd)
        {
            foreach (var started in await Task.WhenAll(Enumerable.Range(0, Deciders).Select(i => journey.StartedAsync(exam, seed: Learners + i))))
            {
                var last = await journey.SaveAnswersAsync(started.Learner, started.SessionId, ("n0", TestAnswers.Number(0)), ("n1", TestAnswers.Number(1)));
                await journey.SubmitAsync(started.Learner, started.SessionId, last);
                submitted.Add(started);
            }
        }

        // The primary to kill: the one that holds the most sessions; its replica is the one to delay.
        var owners = await Task.WhenAll(savers.Select(s => topology.PrimaryOfAsync(SlotKey(s.Started.SessionId))));
        var primary = owners.GroupBy(n => n.Port).OrderByDescending(g => g.Count()).First().First();
        var onPrimary = savers.Where((_, i) => owners[i] == primary).ToList();
        var replica = await topology.ReplicaOfAsync(primary);

        using var stop = new CancellationTokenSource();
        var running = savers.Select(s => Task.Run(() => s.RunAsync(stop.Token))).ToList();
        try
        {
            await Eventually.True(() => savers.All(s => s.Acked.Count >= 10), "every learner saving", Patience);

            // Replication lag made real: the replica stops and its link is dropped; the primary goes on alone.
            await RedisTopology.DelayReplicaAsync(primary, replica);
            var ackedBeforePause = onPrimary.Sum(s => s.Acked.Count);
            var attemptsBeforePause = onPrimary.Sum(s => s.Attempts);
            // Until the killed primary's learners sent 4 saves each, or (when the primary may acknowledge nothing without
            // its replica) were each refused: a stream ended, or the gateway refused them once readiness was off.
            var endingsBeforePause = onPrimary.Sum(s => s.Endings.Count);
            await Eventually.True(() => onPrimary.Sum(s => s.Attempts) - attemptsBeforePause >= 4 * onPrimary.Count
                    || onPrimary.Sum(s => s.Endings.Count) - endingsBeforePause >= onPrimary.Count,
                "saves sent by the killed primary's learners while its replica is stopped", Patience);
            var ackedWhilePaused = onPrimary.Sum(s => s.Acked.Count) - ackedBeforePause;
            var attemptsWhilePaused = (int)(onPrimary.Sum(s => s.Attempts) - attemptsBeforePause);
            var refusedWhilePaused = onPrimary.Sum(s => s.Endings.Count) - endingsBeforePause;

            // The primary dies with the learners saving; its replica resumes and is promoted. Board decisions go on.
            primary.Kill();
            var clock = Stopwatch.StartNew();
            var killedAt = readiness.Now;
            replica.Resume();
            var decisions = submitted.Select(s => journey.DecideAsync(s, DecisionOutcome.Valid, Patience)).ToList();
            var (promoted, _) = await topology.WaitPromotedAsync(primary, SlotKey(onPrimary[0].Started.SessionId), Patience);
            var promotion = clock.Elapsed;

            // Right after the promotion, before the clients resend anything more: every acknowledged save is there.
            var atPromotion = await Task.WhenAll(savers.Select(async s =>
            {
                var acked = s.Acked;
                var session = await Eventually.SucceedsAsync(
                    async () => await journey.Sessions(s.Started.Token).GetSessionAsync(new GetSessionRequest { SessionId = s.Started.SessionId }),
                    $"session {s.Started.SessionId} readable after the promotion", Patience);
                return (Acked: acked.Count, Missing: Missing(acked, session.SavedAnswers.Select(a => (a.QuestionId, a.Sequence, a.AnswerDigest))));
            }));
            var ackedAtPromotion = atPromotion.Sum(a => a.Acked);
            var missingAtPromotion = atPromotion.Sum(a => a.Missing);
            output.WriteLine($"[failover] promoted {promoted.Port} after {promotion.TotalSeconds:0.0} s; acknowledged {ackedAtPromotion}, missing {missingAtPromotion}");
            if (missingAtPromotion > 0 || !toTheEnd)
            {
                // Saves are lost (the loss test stops here: nothing after it would mean anything), or this run was only to see.
                return Figures(topologyName, acknowledgeReplicas, savers, onPrimary, ackedBeforePause, ackedWhilePaused, attemptsWhilePaused, refusedWhilePaused,
                    ackedAtPromotion, missingAtPromotion, promotion, ackedAtPromotion);
            }

            // The dead node comes back: it rejoins as the promoted one's replica, so writes can be acknowledged again.
            await topology.RestartAsync(primary);
            await RedisTopology.WaitReplicaOfAsync(primary, promoted, Patience);
            var ackedAtRejoin = savers.Sum(s => s.Acked.Count);
            await Eventually.True(() => savers.Sum(s => s.Acked.Count) >= ackedAtRejoin + 10 * Learners || savers.All(s => s.Done),
                "the learners saving again after the failover", Patience);
            await stop.CancelAsync();
            await Task.WhenAll(running);

            // Readiness followed: not ready while no write could be acknowledged, ready again since.
            await Eventually.True(() => readiness.Since(killedAt) is { Count: > 0 } a && a[^1].Ready, "a session replica ready again", Patience);
            var answers = readiness.Since(killedAt).ToList();
            var lastNotReady = answers.FindLastIndex(a => !a.Ready);
            var readyAgain = lastNotReady < 0 ? TimeSpan.Zero : answers[lastNotReady + 1].At - killedAt;

            // The final check of every saver, retried as a client does: the receipt holds every acknowledged save.
            var missingFromReceipts = 0;
            foreach (var s in savers)
            {
                await s.CatchUpAsync();
                var requestId = Journey.RequestId();
                var receipt = await Eventually.SucceedsAsync(() => journey.SubmitAsync(s.Started.Learner, s.Started.SessionId, s.LastAcked, requestId),
                    $"the final check of {s.Started.SessionId}", Patience);
                missingFromReceipts += Missing(s.Acked, receipt.Items.Where(i => i.Ticked).Select(i => (i.QuestionId, i.Sequence, i.AnswerDigest)));
            }
            decisions.AddRange(savers.Select(s => journey.DecideAsync(s.Started, DecisionOutcome.Valid, Patience)));
            await Task.WhenAll(decisions);

            // Decisions delivered once: one decided dashboard entry per session, one decision event per session.
            var decided = submitted.Concat(savers.Select(s => s.Started)).ToList();
            var dashboards = await journey.CountEntriesAsync(decided,
                e => e.Status is ResultStatus.Certified or ResultStatus.NotPassed, Patience);
            var oneEntry = 0;
            foreach (var l in decided)
            {
                var board = await journey.Dashboard(l.Token).GetDashboardAsync(new GetDashboardRequest());
                if (board.Entries.Count(e => e.SessionId == l.SessionId) == 1) oneEntry++;
            }
            var events = probe!.Of("BoardDecisionRecorded", decided.Select(d => d.SessionId));
            var distinct = events.GroupBy(e => e.SessionId).Count(g => g.Select(e => e.EventId).Distinct().Count() == 1);
            return Figures(topologyName, acknowledgeReplicas, savers, onPrimary, ackedBeforePause, ackedWhilePaused, attemptsWhilePaused, refusedWhilePaused,
                ackedAtPromotion, missingAtPromotion, promotion, ackedAtPromotion) with
            {
                ReceiptsChecked = savers.Count,
                MissingFromReceipts = missingFromReceipts,
                Decisions = decided.Count,
                DecisionsDuringFailover = submitted.Count,
                DashboardsWithOneDecidedEntry = Math.Min(dashboards, oneEntry),
                DecisionEventsDistinct = distinct,
                ReadinessNotReady = answers.Count(a => !a.Ready),
                ReadinessReadyAgain = readyAgain,
                ReadinessSlowest = answers.Max(a => a.Took),
            };
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(running);
            foreach (var s in savers) s.Dispose();
        }
    }

    /// <summary>A key in the slot of a session's keys (its hash tag).</summary>
    private static string SlotKey(string sessionId) => "{" + sessionId + "}";

    /// <summary>Acknowledged saves not found with the same question, sequence and digest.</summary>
    private static int Missing(IEnumerable<SaveAck> acked, IEnumerable<(string Question, long Sequence, string Digest)> stored)
    {
        var held = stored.ToDictionary(s => s.Question);
        return acked.Count(a => !held.TryGetValue(a.QuestionId, out var s) || s.Sequence != a.Sequence || s.Digest != a.AnswerDigest);
    }

    private static FailoverFigures Figures(string topology, int replicas, List<SavingLearner> savers, List<SavingLearner> onPrimary,
        int ackedBeforePause, int ackedWhilePaused, int attemptsWhilePaused, int refusedWhilePaused, int ackedAtPromotion, int missingAtPromotion, TimeSpan promotion, int ackedThen)
    {
        var endings = savers.SelectMany(s => s.Endings).ToList();
        var ackedInAll = savers.Sum(s => s.Acked.Count);
        return new FailoverFigures(topology, replicas, savers.Count, onPrimary.Count, ackedBeforePause, ackedWhilePaused, attemptsWhilePaused, refusedWhilePaused,
            ackedAtPromotion, missingAtPromotion, promotion, ackedInAll, ackedInAll - ackedThen,
            endings.GroupBy(e => e.Code.ToString()).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            endings.Count(e => e.RetryInfo), endings.Count(e => e.Code != StatusCode.Unavailable),
            [.. endings.Where(e => e.Code != StatusCode.Unavailable).Select(e => $"{e.Code}: {e.Detail}").Distinct().Take(3)], savers.Sum(s => s.Refusals.Count),
            0, 0, 0, 0, 0, 0, 0, TimeSpan.Zero, TimeSpan.Zero);
    }
}
