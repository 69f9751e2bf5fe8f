using Vigil.Contracts.Session.V1;
using Vigil.Faults.Tests.Infrastructure;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Faults.Tests.Hostile;

/// <summary>What no log may hold: photo bytes, answers, tokens, keys. Checked over everything every process printed.</summary>
[Collection(FaultCollection.Name)]
public sealed class LogHygieneTests(FaultStack stack, ITestOutputHelper output) : IDisposable
{
    private readonly Journey _journey = new(stack);

    /// <summary>The secrets of a run and how each would show in a log.</summary>
    public static IEnumerable<(string What, string Needle)> Forbidden(FaultStack stack, IEnumerable<string> extra)
    {
        yield return ("JPEG bytes, base64", "/9j/4");
        yield return ("PNG bytes, base64", "iVBORw0KGgo");
        yield return ("JPEG bytes, raw", "\u00FF\u00D8\u00FF");
        yield return ("JPEG bytes, raw (replacement chars)", "\uFFFD\uFFFD\uFFFD\uFFFDJFIF");
        yield return ("a bearer token", "Bearer ey");
        yield return ("a JWT", "eyJhbGciOi");
        yield return ("the photo encryption key", stack.PhotoKey);
        yield return ("a private key", "PRIVATE KEY");
        yield return ("the development certificate key material", "MIGHAgEAMBMGByqGSM49");
        foreach (var e in extra) yield return ("an answer or token of this test", e);
    }

    /// <summary>The lines of every process's output that hold a forbidden needle.</summary>
    public static List<string> Leaks(FaultStack stack, IEnumerable<string> extra)
    {
        var forbidden = Forbidden(stack, extra).Where(f => f.Needle.Length > 0).ToList();
        var leaks = new List<string>();
        foreach (var p in stack.AllProcesses)
        {
            foreach (var line in p.Output.Split('\n'))
            {
                foreach (var (what, needle) in forbidden)
                {
                    if (line.Contains(needle, StringComparison.Ordinal)) leaks.Add($"{p.Name} (pid {p.Pid}) logged {what}: {line[..Math.Min(line.Length, 200)]}");
                }
            }
        }
        return leaks;
    }

    [Fact]
    public async Task No_photo_bytes_answers_tokens_or_keys_in_any_log()
    {
        await stack.HealAsync();
        var canary = "canary-answer-" + Guid.NewGuid().ToString("N")[..12];
        var created = await _journey.CreateExamAsync(_journey.NewExam(Journey.Id("course"))
            .Titled("Log drill", "Type the word.")
            .ShortText("t0", "Type the word.", canary)
            .Build());
        var learner = await _journey.StartedAsync(created);
        await using (var stream = await ExamStreamClient.OpenAsync(_journey.Sessions(learner.Token), learner.SessionId))
        {
            await stream.SendHeartbeatAsync();
            await stream.SaveAsync(1, "t0", new Answer { Text = canary });
            // A refused save too: refusals are where handlers tend to log the input.
            await stream.SaveRejectedAsync(2, "no-such-question", new Answer { Text = canary + "-refused" });
        }
        await _journey.Sessions(learner.Token).SubmitFinalCheckAsync(new SubmitFinalCheckRequest { RequestId = Journey.RequestId(), SessionId = learner.SessionId, LastSaveSequence = 1 });
        await _journey.DecideAsync(learner);
        // The whole way through: the certificate service logged its part once the dashboard shows the result.
        await _journey.AwaitEntryAsync(learner.Token, learner.SessionId, e => e.Status == Vigil.Contracts.Certificate.V1.ResultStatus.Certified, FaultStack.Patience);

        var leaks = Leaks(stack, [canary, learner.Token, learner.Token[^40..]]);
        var lines = stack.AllProcesses.Sum(p => p.Output.Split('\n').Length);
        Figures.Print(output, "log hygiene", $"processes: {stack.AllProcesses.Count}, log lines checked: {lines}, forbidden patterns: {Forbidden(stack, [canary]).Count()}, leaks: {leaks.Count}");
        foreach (var l in leaks.Take(20)) output.WriteLine(l);
        Assert.True(leaks.Count == 0, string.Join("\n", leaks.Take(10)));
    }

    public void Dispose() => _journey.Dispose();
}
