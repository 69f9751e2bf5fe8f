using System.Diagnostics;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// The learner's dashboard page and the public verification page in a real headless Chromium, driven by
/// playwright-core (tests/browser/pages.mjs), against the gateway. Screenshots go to artifacts/screenshots/.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class BrowserTests(EndToEndStack stack) : IDisposable
{
    private readonly Journey _journey = stack.NewJourney();

    [Fact]
    public async Task The_dashboard_page_shows_the_certificate_then_the_withdrawal_live_and_the_code_verifies_publicly()
    {
        var course = Journey.Id("course");
        var submitted = await _journey.SubmittedSessionAsync(course);
        var board = TestTokens.Board(Journey.Id("board"), course);
        await _journey.AwaitReviewableAsync(board, course, submitted.SessionId);
        var valid = (await _journey.Board(board).RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = Journey.RequestId(), SessionId = submitted.SessionId, Outcome = DecisionOutcome.Valid,
        })).Decision;
        await _journey.AwaitEntryAsync(submitted.Token, submitted.SessionId, e => e.Status == Vigil.Contracts.Certificate.V1.ResultStatus.Certified);

        var root = ServiceProcess.RepositoryRoot;
        var screenshots = Path.Combine(root, "artifacts", "screenshots");
        var psi = new ProcessStartInfo("node", [Path.Combine(root, "tests", "browser", "pages.mjs")])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.Combine(root, "tools"),
        };
        psi.Environment["VIGIL_TOOLS"] = Path.Combine(root, "tools");
        psi.Environment["VIGIL_PAGES"] = stack.GatewayPages.ToString().TrimEnd('/');
        psi.Environment["VIGIL_LEARNER_TOKEN"] = submitted.Token;
        psi.Environment["VIGIL_SESSION_ID"] = submitted.SessionId;
        psi.Environment["VIGIL_SCREENSHOTS"] = screenshots;
        psi.Environment["VIGIL_CHROMIUM"] = Chromium.Path();

        using var node = Process.Start(psi)!;
        var stderr = node.StandardError.ReadToEndAsync();
        var seen = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(240));
        try
        {
            while (await node.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                seen.Add(line);
                if (line == "step ready-for-withdrawal")
                {
                    await _journey.Board(board).RecordDecisionAsync(new RecordDecisionRequest
                    {
                        RequestId = Journey.RequestId(), SessionId = submitted.SessionId, Outcome = DecisionOutcome.Withdrawn,
                        Reason = RefusalReason.Documents, Notes = "Notes were used during the exam.", ExpectedVersion = valid.Version,
                    });
                    await node.StandardInput.WriteLineAsync("go");
                    await node.StandardInput.FlushAsync();
                }
            }
            await node.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
        }
        var log = string.Join("\n", seen) + "\n" + await stderr;
        Assert.True(node.ExitCode == 0, "The browser test failed:\n" + log);
        Assert.Contains("step signed-out", seen);
        Assert.Contains("step certified", seen);
        Assert.Contains("step withdrawn-live", seen);
        Assert.Contains("step verify-withdrawn", seen);
        Assert.Contains("step verify-unknown", seen);
        Assert.Contains("done", seen);
        foreach (var shot in new[] { "dashboard-certified.png", "dashboard-withdrawn-live.png", "verify-withdrawn.png", "verify-unknown.png" })
        {
            var file = new FileInfo(Path.Combine(screenshots, shot));
            Assert.True(file.Exists && file.Length > 5000, $"Screenshot {shot} missing or empty.");
        }
    }

    public void Dispose() => _journey.Dispose();
}

/// <summary>Debian's chromium, which scripts/test.d/browser.sh installs when missing (the one place that does), or VIGIL_CHROMIUM.</summary>
internal static class Chromium
{
    public static string Path()
    {
        var configured = Environment.GetEnvironmentVariable("VIGIL_CHROMIUM");
        if (!string.IsNullOrEmpty(configured) && File.Exists(configured)) return configured;
        const string debian = "/usr/bin/chromium";
        Assert.True(File.Exists(debian), "Chromium is missing: scripts/test.d/browser.sh installs it (apt-get install chromium), or set VIGIL_CHROMIUM.");
        return debian;
    }
}

