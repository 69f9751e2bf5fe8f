using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Faults.Tests.Infrastructure;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Faults.Tests.Balancing;

/// <summary>
/// Per-pod balancing with real processes (<see cref="PodStack"/>): exam streams spread over the session pods of
/// one name, a pod added gets new streams once the gateway has resolved the name again, a pod that drains sends
/// its streams elsewhere with every acknowledged save kept; a service process killed under an open call or stream
/// gives the client UNAVAILABLE through the gateway. Which pod holds how many streams is read from each replica's
/// own metrics (<see cref="ServiceProcess.ActiveCallsAsync"/>), as an operator would.
/// </summary>
[Collection(PodCollection.Name)]
public sealed class PodBalancingTests(PodStack pods, ITestOutputHelper output)
{
    private const int FirstStreams = 240;
    private const int LaterStreams = 40;
    private const int Questions = 10;

    /// <summary>
    /// Each stream saves one answer at a time from just before a pod is told to stop until it has exited (at most
    /// this many), so that saves are in flight on the draining pod when it tells its streams to reconnect.
    /// </summary>
    private const int MaxSavesDuringDrain = 10;

    /// <summary>How far from an equal share a pod may be.</summary>
    private const double Tolerance = 0.15;

    private ProcessStack Stack => pods.Stack;

    [Fact]
    public async Task Streams_spread_over_the_pods_of_one_name_reach_a_new_pod_and_move_off_a_draining_one_with_every_acknowledged_save_kept()
    {
        using var journey = new Journey(Stack);
        var setup = Stopwatch.StartNew();
        var exam = await journey.CreateExamAsync(ExamBuilder.Numbered(Journey.Id("course"), Questions, journey.Clock.GetUtcNow()));
        var learners = await StartLearnersAsync(journey, exam, FirstStreams + LaterStreams);
        Figures.Print(output, "setup", $"{learners.Count} learners verified (two photos each) and started through the gateway in {setup.Elapsed.TotalSeconds:0} s");
        var clients = new List<ResumingClient>();
        try
        {
            // 1. A few hundred streams over three pods: each holds its share.
            clients.AddRange(await OpenAsync(learners[..FirstStreams]));
            var three = await SettledCountsAsync(FirstStreams, [0, 1, 2]);
            Figures.Print(output, "three pods", $"{FirstStreams} streams: {Describe(three)}");
            foreach (var (pod, count) in three)
            {
                Assert.InRange(count, FirstStreams / 3.0 * (1 - Tolerance), FirstStreams / 3.0 * (1 + Tolerance));
            }

            // 2. A fourth pod: the gateway sees it at its next resolution, and new streams reach it.
            var fourth = await Stack.AddSessionReplicaAsync();
            var watch = Stopwatch.StartNew();
            var address = Stack.SessionHost(fourth).ToString();
            var seen = await Stack.Gateway.CountLinesAsync(l => l.Contains($"Destinations of {PodStack.Name} are now", StringComparison.Ordinal) && l.Contains(address, StringComparison.Ordinal), 1, PodStack.RefreshInterval * 20);
            Assert.True(seen >= 1, $"the gateway never resolved {PodStack.Name} to {address}\n{Stack.Logs()}");
            var resolvedAfter = watch.Elapsed;
            clients.AddRange(await OpenAsync(learners[FirstStreams..]));
            var four = await SettledCountsAsync(FirstStreams + LaterStreams, [0, 1, 2, fourth]);
            Figures.Print(output, "fourth pod", $"in the gateway's destinations {resolvedAfter.TotalSeconds:0.0} s after it was ready and named (refresh every {PodStack.RefreshInterval.TotalSeconds:0} s); after {LaterStreams} more streams: {Describe(four)}");
            // Power of two choices on calls in flight: the empty pod wins every draw it is in, about half of them.
            Assert.True(four[fourth] >= LaterStreams / 4, $"the new pod got {four[fourth]} of {LaterStreams} new streams");

            // 3. Pod 0 drains (SIGTERM, as Kubernetes stops a pod): its streams are told to reconnect, resume on the others
            //    through the gateway, and every save acknowledged anywhere is in the session.
            var draining = four[0];
            var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var runs = clients.Select(c => c.SaveAsync(1, MaxSavesDuringDrain, drained.Task)).ToList();
            var drainWatch = Stopwatch.StartNew();
            var exitCode = await Stack.DrainSessionAsync(0, TimeSpan.FromSeconds(60));
            var drainTook = drainWatch.Elapsed;
            drained.SetResult();
            await Task.WhenAll(runs);
            // Every stream is alive on a live pod: one more save each.
            await Task.WhenAll(clients.Select(c => c.SaveAsync(1, 1, Task.CompletedTask)));
            var after = await SettledCountsAsync(clients.Count, [1, 2, fourth]);
            var moved = clients.Count(c => c.Resumes > 0);
            var acknowledged = clients.Sum(c => c.Acks.Count);
            var kept = 0;
            foreach (var client in clients)
            {
                var session = await client.Learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = client.SessionId });
                kept += Faults.ProcessKillTests.CountFound(client.Acks, session);
            }
            Figures.Print(output, "drain", $"pod 0 held {draining} streams, exited {exitCode} {drainTook.TotalSeconds:0.0} s after SIGTERM; streams that resumed elsewhere: {moved} ({clients.Sum(c => c.Resumes)} resumes; endings: {string.Join(", ", clients.SelectMany(c => c.Endings).GroupBy(e => e).Select(g => $"{g.Count()} {g.Key}"))}); after: {Describe(after)}; saves acknowledged: {acknowledged}, found in the sessions: {kept}");
            Assert.Equal(0, exitCode);
            Assert.Equal(draining, moved);
            Assert.Equal(acknowledged, kept);
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_service_killed_under_an_open_stream_and_an_open_call_gives_the_client_Unavailable_through_the_gateway()
    {
        using var journey = new Journey(Stack);
        var exam = await journey.CreateExamAsync(ExamBuilder.Numbered(Journey.Id("course"), 2, journey.Clock.GetUtcNow()));
        var learner = (await StartLearnersAsync(journey, exam, 1))[0];
        var pods = RunningPods();

        // A stream through the gateway; the pod that holds it is SIGKILLed.
        var before = await CountsAsync(pods);
        await using var stream = await learner.Learner.OpenStreamAsync(learner.SessionId);
        await stream.SaveAsync(1, "n0", ExamBuilder.NumberedAnswer("n0"));
        var holder = await Eventually.ValueAsync<int>(async () =>
        {
            var now = await CountsAsync(pods);
            return now.Where(p => p.Value > before[p.Key]).Select(p => (int?)p.Key).FirstOrDefault();
        }, () => "the pod holding the stream to show it in its metrics");
        await Stack.Sessions[holder]!.KillAsync();
        var ended = await stream.Ended.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"stream on pod {holder}, SIGKILLed: the client read {ended.StatusCode} \"{ended.Detail}\"");
        Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
        await Stack.StartSessionAsync(holder);

        // A unary call in flight at the certificate service when it is SIGKILLed: stopped first (SIGSTOP) so that the
        // call is surely open there, then killed.
        var certificate = Stack.Certificate!;
        var gatewayCalls = await Stack.Gateway.ActiveCallsAsync();
        await certificate.PauseAsync();
        var verification = new CertificateVerificationService.CertificateVerificationServiceClient(journey.Invoker(null));
        var call = verification.VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = "KILL-0000" }).ResponseAsync;
        await Eventually.Async(async () => await Stack.Gateway.ActiveCallsAsync() > gatewayCalls, "the call to be open at the gateway");
        await certificate.KillAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
        output.WriteLine($"unary call open at the certificate service, SIGKILLed: the client read {ex.StatusCode} \"{ex.Status.Detail}\"");
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        await Stack.StartCertificateAsync();
    }

    [Fact]
    public async Task The_CLI_follows_a_draining_pods_Reconnect_and_its_exam_ends_with_every_answer_recorded()
    {
        using var journey = new Journey(Stack);
        var exam = await journey.CreateExamAsync(ExamBuilder.Numbered(Journey.Id("course"), Questions, journey.Clock.GetUtcNow()));
        var learner = (await StartLearnersAsync(journey, exam, 1))[0];
        var pods = RunningPods();
        var answers = Path.Combine(Path.GetTempPath(), $"vigil-answers-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(answers, "{" + string.Join(",", Enumerable.Range(0, Questions).Select(i =>
            $"\"n{i}\": {Google.Protobuf.JsonFormatter.Default.Format(ExamBuilder.NumberedAnswer($"n{i}"))}")) + "}");
        try
        {
            // A learner's proctoring client (the real CLI) answers one question every 300 ms through the gateway.
            var before = await CountsAsync(pods);
            using var cli = CliProcess.Start(["--gateway", Stack.Gateway.GrpcAddress.ToString(), "session", "run", "--session", learner.SessionId,
                "--answers", answers, "--pace", "00:00:00.3"], ("VIGIL_TOKEN", learner.Token));
            await cli.LineAsync(l => l.Contains("is durable", StringComparison.Ordinal));
            var holder = await Eventually.ValueAsync<int>(async () =>
            {
                var now = await CountsAsync(pods);
                return now.Where(p => p.Value > before[p.Key]).Select(p => (int?)p.Key).FirstOrDefault();
            }, () => "the pod holding the CLI's stream to show it in its metrics");

            // Its pod drains (SIGTERM, as Kubernetes stops a pod) while answers are still to come.
            Assert.Equal(0, await Stack.DrainSessionAsync(holder, TimeSpan.FromSeconds(60)));
            var (code, stdout, stderr) = await cli.ExitAsync();
            output.WriteLine(stdout);
            Assert.True(code == 0, $"vigil session run exited {code}\n{stdout}\n{stderr}");
            Assert.Contains("the server asks to reconnect", stdout, StringComparison.Ordinal);
            Assert.Contains("reopening the exam stream", stdout, StringComparison.Ordinal);

            // The final check recorded every answer, each once, whatever stream carried it.
            var receipt = await learner.Learner.Sessions().GetReceiptAsync(new GetReceiptRequest { SessionId = learner.SessionId });
            Assert.Equal(Questions, receipt.Receipt.Items.Count);
            Assert.All(receipt.Receipt.Items, item => Assert.True(item.Ticked, $"{item.QuestionId} has no recorded answer"));
            Assert.Equal(Questions, receipt.Receipt.Items.Select(i => i.Sequence).Distinct().Count());
        }
        finally
        {
            File.Delete(answers);
            foreach (var pod in pods.Where(p => Stack.Sessions[p] is null or { HasExited: true })) await Stack.StartSessionAsync(pod);
        }
    }

    /// <summary>The indexes of the session pods now running.</summary>
    private int[] RunningPods() => [.. Enumerable.Range(0, Stack.Sessions.Count).Where(i => Stack.Sessions[i] is { HasExited: false })];

    /// <summary>Learners verified (both photos) and started on <paramref name="exam"/>, a few at a time as on an exam's start.</summary>
    private static async Task<List<StartedLearner>> StartLearnersAsync(Journey journey, Exam exam, int count)
    {
        var started = new StartedLearner[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            started[i] = await journey.StartedAsync(exam, seed: i));
        return [.. started];
    }

    private static async Task<List<ResumingClient>> OpenAsync(IEnumerable<StartedLearner> learners)
    {
        var opened = new List<ResumingClient>();
        foreach (var batch in learners.Chunk(20))
        {
            opened.AddRange(await Task.WhenAll(batch.Select(ResumingClient.OpenAsync)));
        }
        return opened;
    }

    /// <summary>The gRPC calls each pod holds open now (exam streams, once no unary call is in flight).</summary>
    private async Task<Dictionary<int, int>> CountsAsync(IEnumerable<int> pods)
    {
        var counts = new Dictionary<int, int>();
        foreach (var pod in pods) counts[pod] = await Stack.Sessions[pod]!.ActiveCallsAsync();
        return counts;
    }

    /// <summary>Waits until the pods hold <paramref name="total"/> calls between them (every stream open has arrived), and returns each one's.</summary>
    private async Task<Dictionary<int, int>> SettledCountsAsync(int total, int[] pods)
    {
        Dictionary<int, int> counts = [];
        await Eventually.Async(async () => (counts = await CountsAsync(pods)).Values.Sum() == total,
            () => $"the pods to hold {total} streams between them (they hold {Describe(counts)})", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250));
        return counts;
    }

    private static string Describe(Dictionary<int, int> counts) =>
        string.Join(", ", counts.Select(c => string.Create(CultureInfo.InvariantCulture, $"pod {c.Key}: {c.Value}")));

    /// <summary>
    /// A proctoring client that keeps its exam going across a drain: it saves one answer at a time and, when its
    /// stream ends (a Reconnect, or the connection gone), opens a new one through the gateway from the last
    /// acknowledged save, as the protocol says, and goes on.
    /// </summary>
    private sealed class ResumingClient(StartedLearner learner, ExamStreamClient stream) : IAsyncDisposable
    {
        private ExamStreamClient _stream = stream;
        private long _sequence = stream.Opened.LastAckedSequence;

        public TestLearner Learner => learner.Learner;

        public string SessionId => learner.SessionId;

        /// <summary>Every acknowledgement this client received, on any stream.</summary>
        public List<SaveAck> Acks { get; } = [];

        /// <summary>How each of its streams that ended did end ("Reconnect + OK", "Unavailable"...).</summary>
        public List<string> Endings { get; } = [];

        /// <summary>How many times the client opened its stream again.</summary>
        public int Resumes { get; private set; }

        public static async Task<ResumingClient> OpenAsync(StartedLearner learner) =>
            new(learner, await learner.Learner.OpenStreamAsync(learner.SessionId));

        /// <summary>
        /// Saves answers one at a time, at least <paramref name="least"/> and then until <paramref name="done"/> completes
        /// (at most <paramref name="most"/>); then resumes the stream if it ended meanwhile.
        /// </summary>
        public async Task SaveAsync(int least, int most, Task done)
        {
            for (var i = 0; i < least || (i < most && !done.IsCompleted);)
            {
                var question = $"n{(_sequence + 1) % Questions}";
                try
                {
                    Acks.Add(await _stream.SaveAsync(_sequence + 1, question, ExamBuilder.NumberedAnswer(question), TimeSpan.FromSeconds(30)));
                    _sequence++;
                    i++;
                }
                catch (RpcException) when (_stream.Ended.IsCompleted)
                {
                    await ResumeAsync();
                }
            }
            await done;
            if (_stream.Ended.IsCompleted) await ResumeAsync();
        }

        private async Task ResumeAsync()
        {
            var ended = await _stream.Ended;
            // A client reconnects when told to (Reconnect, whatever status follows it) or on UNAVAILABLE; anything else
            // is an ending no client recovers from.
            Endings.Add($"{(_stream.Reconnect is null ? "" : "Reconnect + ")}{ended.StatusCode}");
            if (_stream.Reconnect is null && ended.StatusCode != StatusCode.Unavailable)
            {
                throw new InvalidOperationException($"the stream of {SessionId} ended with {ended.StatusCode} \"{ended.Detail}\" and no Reconnect");
            }
            await _stream.DisposeAsync();
            // Unavailable while the gateway has no pod for it, or a Reconnect where StreamOpened was expected when the
            // gateway still sent it to the pod that drains: the client tries again, as it must.
            _stream = await Eventually.ObjectAsync(async () => await Learner.OpenStreamAsync(SessionId, _sequence), () => $"the stream of {SessionId} to open again",
                retryOn: ex => Eventually.Transient(ex) || (ex is InvalidOperationException && ex.Message.Contains("\"reconnect\"", StringComparison.Ordinal)));
            // The server has everything the client saw acknowledged, and nothing more is assumed.
            Assert.Equal(_sequence, _stream.Opened.LastAckedSequence);
            Resumes++;
        }

        public ValueTask DisposeAsync() => _stream.DisposeAsync();
    }
}
