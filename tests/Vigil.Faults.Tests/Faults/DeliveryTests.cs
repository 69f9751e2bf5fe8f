using Grpc.Core;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.Contracts.Session.V1;
using Vigil.Faults.Tests.Infrastructure;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Faults.Tests.Faults;

/// <summary>
/// Events while RabbitMQ is unreachable or the certificate service is down, a consumer killed mid-delivery,
/// and a final check whose reply is lost: every event is delivered and applied, exactly one per fact.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class DeliveryTests(FaultStack stack, ITestOutputHelper output) : IDisposable
{
    private const int Questions = 3;
    private static readonly string Submitted = nameof(SessionSubmitted);
    private static readonly string Decided = nameof(BoardDecisionRecorded);
    private readonly Journey _journey = new(stack);

    private static bool Certified(DashboardEntry e) => e.Status == ResultStatus.Certified && e.Certificate is not null;

    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task RabbitMQ_unreachable_while_sessions_are_submitted_and_decided_the_outbox_delivers_everything_once_it_is_back()
    {
        await stack.HealAsync();
        await using var tap = await EventProbe.StartAsync(TestEnvironment.RabbitMq("faults"), "faults-tap");
        var learners = await _journey.StartedAsync(4, Questions);
        var ids = learners.Select(l => l.SessionId).ToList();

        stack.Broker.Cut();
        try
        {
            foreach (var l in learners) await _journey.AnswerAndSubmitAsync(l);
            foreach (var l in learners) await _journey.DecideAsync(l);
            // The relays tried (a publish of these sessions failed, its event left in the outbox), and nothing got through.
            await Eventually.True(() => stack.Sessions.Any(s => s is not null && ids.Any(id => s.Output.Contains($"of session {id} failed", StringComparison.Ordinal))),
                "a relay to fail to publish while the broker is cut", Delivery, TimeSpan.FromMilliseconds(200));
            Assert.Empty(tap.Of(Submitted, ids));
            Assert.Empty(tap.Of(Decided, ids));
        }
        finally
        {
            stack.Broker.Restore();
        }

        var submitted = await tap.WaitAsync(Submitted, ids, learners.Count, Delivery);
        var decided = await tap.WaitAsync(Decided, ids, learners.Count, Delivery);
        var applied = await _journey.CountEntriesAsync(learners, Certified, Delivery);
        Figures.Print(output, "RabbitMQ unreachable", $"sessions submitted: {learners.Count}, decisions recorded: {learners.Count}, events published: {tap.Of(Submitted, ids).Count + tap.Of(Decided, ids).Count} (distinct {tap.Of(Submitted, ids).Concat(tap.Of(Decided, ids)).Select(e => e.EventId).Distinct().Count()}), events applied (certified entries): {applied}");
        Assert.Equal(learners.Count, submitted.Select(e => e.EventId).Distinct().Count());
        Assert.Equal(learners.Count, decided.Select(e => e.EventId).Distinct().Count());
        Assert.Equal(learners.Count, applied);
    }

    [Fact]
    public async Task Certificate_service_down_while_sessions_are_submitted_and_decided_applies_every_event_once_it_runs()
    {
        await stack.HealAsync();
        await using var tap = await EventProbe.StartAsync(TestEnvironment.RabbitMq("faults"), "faults-tap");
        var learners = await _journey.StartedAsync(3, Questions);
        var ids = learners.Select(l => l.SessionId).ToList();
        await stack.Certificate!.KillAsync();

        foreach (var l in learners) await _journey.AnswerAndSubmitAsync(l);
        foreach (var l in learners) await _journey.DecideAsync(l);
        var published = (await tap.WaitAsync(Submitted, ids, learners.Count, Delivery)).Count
            + (await tap.WaitAsync(Decided, ids, learners.Count, Delivery)).Count;

        await stack.StartCertificateAsync();
        var applied = await _journey.CountEntriesAsync(learners, Certified, Delivery);
        Figures.Print(output, "certificate service down", $"events published: {published}, events applied (certified entries): {applied} of {learners.Count} sessions");
        Assert.Equal(learners.Count * 2, published);
        Assert.Equal(learners.Count, applied);
    }

    [Fact]
    public async Task Certificate_consumer_killed_mid_delivery_and_every_event_delivered_again_changes_nothing()
    {
        await stack.HealAsync();
        await using var tap = await EventProbe.StartAsync(TestEnvironment.RabbitMq("faults"), "faults-tap");
        var learners = await _journey.StartedAsync(6, Questions);
        var ids = learners.Select(l => l.SessionId).ToList();
        await stack.Certificate!.KillAsync();
        foreach (var l in learners) await _journey.AnswerAndSubmitAsync(l);
        foreach (var l in learners) await _journey.DecideAsync(l);
        var events = (await tap.WaitAsync(Submitted, ids, learners.Count, Delivery))
            .Concat(await tap.WaitAsync(Decided, ids, learners.Count, Delivery)).ToList();
        var sessions = ids.ToHashSet(StringComparer.Ordinal);

        // Start it with the backlog waiting and SIGKILL it as soon as it has applied something: deliveries in
        // flight were written to Redis but not acknowledged, so the broker delivers them again.
        await stack.StartCertificateAsync();
        var first = stack.Certificate!;
        // Watch its log line by line: SIGKILL the moment the first fact is stored, while the rest of the backlog is in flight.
        await first.CountLinesAsync(line => IsFact(line, sessions, "Applied"), 1, TimeSpan.FromSeconds(60));
        await first.KillAsync();
        var killedAfter = first.Output.Split('\n').Count(line => IsFact(line, sessions, "Applied"));
        var appliedBeforeKill = killedAfter;
        await stack.StartCertificateAsync();
        var applied = await _journey.CountEntriesAsync(learners, Certified, Delivery);
        Assert.Equal(learners.Count, applied);
        var before = new Dictionary<string, DashboardEntry>();
        foreach (var l in learners) before[l.SessionId] = (await _journey.EntryAsync(l.Token, l.SessionId))!;

        // Every event delivered once more, byte for byte: nothing may change.
        foreach (var e in events)
        {
            await tap.RedeliverAsync(e, e.Type == Submitted ? EventTopology.CertificateSessionSubmittedQueue : EventTopology.CertificateBoardDecisionRecordedQueue);
        }
        var second = stack.Certificate!;
        var duplicates = await second.CountLinesAsync(line => IsFact(line, sessions, "Duplicate"), events.Count, TimeSpan.FromSeconds(30));
        var unchanged = 0;
        foreach (var l in learners)
        {
            var after = await _journey.EntryAsync(l.Token, l.SessionId);
            if (after is not null && after.Equals(before[l.SessionId])) unchanged++;
        }
        Figures.Print(output, "certificate consumer SIGKILL + redelivery", $"events published: {events.Count}, facts applied when the kill was sent: {killedAfter}, applied by the killed process in all: {appliedBeforeKill}, events applied after restart: {applied} certified entries, events delivered again: {events.Count}, seen as duplicates: {duplicates}, entries unchanged: {unchanged} of {learners.Count}");
        Assert.Equal(learners.Count, unchanged);
        Assert.True(duplicates >= events.Count, $"Expected every redelivered event to be seen as a duplicate; got {duplicates} of {events.Count}.");
    }

    [Fact]
    public async Task Certificate_consumer_killed_in_the_middle_of_a_backlog_every_fact_is_applied_exactly_once()
    {
        await stack.HealAsync();
        await using var tap = await EventProbe.StartAsync(TestEnvironment.RabbitMq("faults"), "faults-tap");
        var learner = (await _journey.StartedAsync(1, Questions))[0];
        await _journey.AnswerAndSubmitAsync(learner);
        var template = (await tap.WaitAsync(Submitted, [learner.SessionId], 1, Delivery))[0];

        // A backlog of distinct facts (the real event as template, each with its own event id, session and learner),
        // large enough that the consumer is still in the middle of it when it is killed.
        const int Backlog = 400;
        await stack.Certificate!.KillAsync();
        var facts = Enumerable.Range(0, Backlog).Select(i => EventProbe.Variant(template, $"{learner.SessionId}-f{i:D3}", $"{learner.Id}-f{i:D3}")).ToList();
        foreach (var f in facts) await tap.RedeliverAsync(f, EventTopology.CertificateSessionSubmittedQueue);
        var ids = facts.Select(f => f.SessionId).ToList();
        var sessions = ids.ToHashSet(StringComparer.Ordinal);

        await stack.StartCertificateAsync();
        var first = stack.Certificate!;
        await first.CountLinesAsync(line => IsFact(line, sessions, "Applied"), Backlog / 10, TimeSpan.FromSeconds(60));
        await first.KillAsync();
        var appliedByFirst = Results(first.Output, ids, "Applied");

        await stack.StartCertificateAsync();
        var second = stack.Certificate!;

        // Every fact is on its learner's dashboard, read as each learner: the store is the proof. The logs only
        // tell who applied what: the killed process may have applied a fact whose log line was still queued in
        // its console logger when SIGKILL came; the redelivery then finds it a duplicate.
        var onDashboard = 0;
        try
        {
            await Eventually.Async(async () =>
            {
                onDashboard = 0;
                foreach (var f in facts)
                {
                    var token = TestTokens.Learner(f.SessionId.Replace(learner.SessionId, learner.Id, StringComparison.Ordinal));
                    var dashboard = await _journey.Dashboard(token).GetDashboardAsync(new GetDashboardRequest());
                    if (dashboard.Entries.Count(e => e.SessionId == f.SessionId) == 1) onDashboard++;
                }
                return onDashboard == Backlog;
            }, "every fact on its dashboard", Delivery, TimeSpan.FromSeconds(1));
        }
        catch (TimeoutException)
        {
            // Printed and asserted below.
        }
        // Who applied what, once the restarted consumer has logged every fact the killed one did not.
        await Eventually.True(() => Results(second.Output, ids, null).Union(appliedByFirst).Count() >= Backlog, "every fact in a consumer's log", Delivery, TimeSpan.FromMilliseconds(200));
        var appliedBySecond = Results(second.Output, ids, "Applied");
        var duplicatesBySecond = Results(second.Output, ids, "Duplicate");
        var appliedTwice = appliedByFirst.Intersect(appliedBySecond).Count();
        Figures.Print(output, "certificate consumer SIGKILL mid-backlog", $"events published: {Backlog}, applied before the kill (logged): {appliedByFirst.Count}, applied after the restart: {appliedBySecond.Count}, applied twice: {appliedTwice}, redelivered after the kill and seen as duplicates: {duplicatesBySecond.Count}, events applied (dashboards with exactly one entry): {onDashboard} of {Backlog}");
        Assert.True(appliedByFirst.Count < Backlog, "The kill came after the whole backlog: nothing was in flight.");
        Assert.Equal(0, appliedTwice);
        Assert.Equal(Backlog, onDashboard);
    }

    /// <summary>The sessions whose fact line in the log has that result (any result when null).</summary>
    private static HashSet<string> Results(string log, IReadOnlyCollection<string> sessionIds, string? result)
    {
        var set = sessionIds.ToHashSet();
        var found = new HashSet<string>();
        foreach (var line in log.Split('\n'))
        {
            if (result is not null && !line.Contains(": " + result, StringComparison.Ordinal)) continue;
            var at = line.IndexOf("for session ", StringComparison.Ordinal);
            if (at < 0) continue;
            var rest = line[(at + "for session ".Length)..];
            var end = rest.IndexOf(':', StringComparison.Ordinal);
            if (end > 0 && set.Contains(rest[..end])) found.Add(rest[..end]);
        }
        return found;
    }

    [Fact]
    public async Task A_final_check_whose_reply_is_lost_retried_gives_one_submission_and_one_event()
    {
        await stack.HealAsync();
        await using var tap = await EventProbe.StartAsync(TestEnvironment.RabbitMq("faults"), "faults-tap");
        var learner = (await _journey.StartedAsync(1, Questions))[0];
        await using (var stream = await learner.Learner.OpenStreamAsync(learner.SessionId))
        {
            for (var i = 0; i < Questions; i++) await stream.SaveAsync(i + 1, $"n{i}", new Answer { Number = i });
        }
        var request = new SubmitFinalCheckRequest { RequestId = Journey.RequestId(), SessionId = learner.SessionId, LastSaveSequence = Questions };

        // 1: the client gives up after 5 ms: the server may or may not have done it; the client cannot know.
        var first = "answered";
        try
        {
            await _journey.Sessions(learner.Token).SubmitFinalCheckAsync(request, deadline: DateTime.UtcNow.AddMilliseconds(5));
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.DeadlineExceeded or StatusCode.Cancelled)
        {
            first = ex.StatusCode.ToString();
        }
        // 2: the server certainly submits, and the reply never reaches the learner (kept here only to compare).
        var lost = (await _journey.Sessions(learner.Token).SubmitFinalCheckAsync(request)).Receipt;
        // 3, 4 and 5: the same request again, through the gateway and straight to both instances.
        var receipts = new List<Receipt>
        {
            (await _journey.Sessions(learner.Token).SubmitFinalCheckAsync(request)).Receipt,
            (await _journey.Sessions(learner.Token, stack.SessionAddress(1)).SubmitFinalCheckAsync(request)).Receipt,
            (await _journey.Sessions(learner.Token, stack.SessionAddress(0)).SubmitFinalCheckAsync(request)).Receipt,
        };
        await tap.WaitAsync(Submitted, [learner.SessionId], 1, Delivery);
        // Nothing more: the relay publishes a session's outbox in order, so once a decision recorded after every
        // retry has reached the broker, a second submission written by a retry would have reached it before.
        await _journey.DecideAsync(learner);
        await tap.WaitAsync(Decided, [learner.SessionId], 1, Delivery);
        var events = tap.Of(Submitted, [learner.SessionId]);
        var session = await _journey.Sessions(learner.Token).GetSessionAsync(new GetSessionRequest { SessionId = learner.SessionId });
        Figures.Print(output, "final check reply lost", $"attempts: {receipts.Count + 2} (first gave up after 5 ms: {first}; second's reply discarded), distinct receipts of the retries: {receipts.Select(r => r.ReceiptDigest).Distinct().Count()}, events published: {events.Count}, state: {session.Session.State}");
        Assert.All(receipts, r => Assert.Equal(lost.ReceiptDigest, r.ReceiptDigest));
        Assert.Single(events);
        Assert.Equal(SessionState.Submitted, session.Session.State);
    }

    /// <summary>Whether a line of the certificate's log is the fact line ("... for session X: Result") of one of the sessions with that result.</summary>
    private static bool IsFact(string line, IReadOnlySet<string> sessionIds, string result)
    {
        var at = line.IndexOf("for session ", StringComparison.Ordinal);
        if (at < 0) return false;
        var rest = line[(at + "for session ".Length)..];
        var end = rest.IndexOf(':', StringComparison.Ordinal);
        return end > 0 && rest[end..].StartsWith(": " + result, StringComparison.Ordinal) && sessionIds.Contains(rest[..end]);
    }

    public void Dispose() => _journey.Dispose();
}
