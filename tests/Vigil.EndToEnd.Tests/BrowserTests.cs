using System.Diagnostics;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// The learner's dashboard page and the public verification page in a real headless Chromium, driven by
/// playwright-core (tests/browser/pages.mjs), against a gateway whose pages sign people in at the real development
/// provider (<see cref="SignInStack"/>): the learner ada signs in with her password at the provider's login page,
/// sees her own results only, sees the board's withdrawal live, signs out; the board member bea signs in too.
/// Screenshots go to artifacts/screenshots/.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class BrowserTests(SignInStack stack) : IDisposable
{
    private readonly Journey _journey = stack.NewJourney();

    [Fact]
    public async Task A_learner_signs_in_at_the_provider_sees_only_her_results_live_signs_out_and_no_token_is_in_any_url()
    {
        var course = Journey.Id("course");
        // ada (a demo user of the provider) and grace each have a submitted session of the course.
        var ada = await _journey.SubmittedSessionAsync(course, "Ada Lovelace", learnerId: "ada");
        var grace = await _journey.SubmittedSessionAsync(course, "Grace Hopper", learnerId: "grace");
        var board = await stack.Provider.TokenAsync(new TokenSpec(Journey.Id("board")) { BoardCourses = [course] });
        await _journey.AwaitReviewableAsync(board, course, ada.SessionId);
        var valid = (await _journey.Board(board).RecordDecisionAsync(new RecordDecisionRequest
        {
            RequestId = Journey.RequestId(), SessionId = ada.SessionId, Outcome = DecisionOutcome.Valid,
        })).Decision;
        await _journey.AwaitEntryAsync(ada.Token, ada.SessionId, e => e.Status == Vigil.Contracts.Certificate.V1.ResultStatus.Certified);
        await _journey.AwaitEntryAsync(grace.Token, grace.SessionId, _ => true);

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
        psi.Environment["VIGIL_PAGES"] = stack.Pages.ToString().TrimEnd('/');
        psi.Environment["VIGIL_PROVIDER"] = stack.Provider.Issuer.ToString().TrimEnd('/');
        psi.Environment["VIGIL_LEARNER"] = "ada";
        psi.Environment["VIGIL_BOARD_MEMBER"] = "bea";
        psi.Environment["VIGIL_PASSWORD"] = DevProvider.DemoPassword;
        psi.Environment["VIGIL_SESSION_ID"] = ada.SessionId;
        psi.Environment["VIGIL_OTHER_SESSION_ID"] = grace.SessionId;
        psi.Environment["VIGIL_SCREENSHOTS"] = screenshots;
        psi.Environment["VIGIL_CHROMIUM"] = Chromium.Path();

        using var node = Process.Start(psi)!;
        var stderr = node.StandardError.ReadToEndAsync();
        var seen = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(300));
        try
        {
            while (await node.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                seen.Add(line);
                if (line == "step ready-for-withdrawal")
                {
                    await _journey.Board(board).RecordDecisionAsync(new RecordDecisionRequest
                    {
                        RequestId = Journey.RequestId(), SessionId = ada.SessionId, Outcome = DecisionOutcome.Withdrawn,
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
        var log = string.Join("\n", seen) + "\n" + await stderr + "\n" + stack.Processes.Logs(20);
        Assert.True(node.ExitCode == 0, "The browser test failed:\n" + log);
        foreach (var step in new[] { "signed-out", "provider-login", "certified", "withdrawn-live", "signed-out-again", "board-signed-in", "verify-withdrawn", "verify-unknown" })
        {
            Assert.True(seen.Contains("step " + step), $"step {step} missing:\n{log}");
        }
        Assert.Contains("done", seen);
        // Every address the browsers visited was checked by the script (no access, ID or refresh token, no JWT);
        // the sign-in went through the provider and its callback.
        var urls = seen.Where(l => l.StartsWith("url ", StringComparison.Ordinal)).Select(l => l[4..]).ToList();
        Assert.Contains(urls, u => u.StartsWith(stack.Provider.Issuer + "account/login", StringComparison.Ordinal));
        Assert.Contains(urls, u => u.Contains("/signin-oidc?", StringComparison.Ordinal));
        Assert.DoesNotContain(urls, u => u.Contains("token=", StringComparison.OrdinalIgnoreCase) || u.Contains("id_token_hint", StringComparison.Ordinal));
        foreach (var shot in new[] { "dashboard-signed-out.png", "provider-login.png", "dashboard-certified.png", "dashboard-withdrawn-live.png", "dashboard-board-member.png", "verify-withdrawn.png", "verify-unknown.png" })
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

