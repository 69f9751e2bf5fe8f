using System.Text.Json;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>The README's run command's heart: `vigil demo` takes one learner through a whole exam via the gateway.</summary>
[Collection(StackCollection.Name)]
public sealed class CliDemoTests(SignInStack signIn)
{
    [Fact]
    public async Task Vigil_demo_gets_its_tokens_at_the_provider_and_prints_how_to_sign_in_not_a_token()
    {
        // What scripts/run.sh runs: Vigil trusting the development provider only, the demo users by password.
        var output = await RunDemoAsync(["--gateway", signIn.Processes.Gateway.GrpcAddress.ToString().TrimEnd('/'),
            "--dashboard-url", signIn.Pages.ToString().TrimEnd('/'), "--provider", signIn.Provider.Issuer.ToString()]);
        Assert.Contains("Learner Ada Lovelace (ada), course course-demo", output, StringComparison.Ordinal);
        Assert.Contains($"{signIn.Pages.ToString().TrimEnd('/')}/dashboard: sign in as ada (password vigil-demo)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("token=", output, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vigil_demo_takes_a_learner_to_a_verified_certificate_through_the_gateway()
    {
        // Another demo learner of the provider (alan), so that ada's results stay what the other tests expect.
        var output = await RunDemoAsync(["--json", "--gateway", signIn.Processes.Gateway.GrpcAddress.ToString().TrimEnd('/'),
            "--dashboard-url", signIn.Pages.ToString().TrimEnd('/'), "--provider", signIn.Provider.Issuer.ToString(), "--learner", "alan"]);

        var steps = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["email", "exam", "verification", "exam", "decision", "done"],
            steps.Where(s => s.TryGetProperty("step", out _)).Select(s => s.GetProperty("step").GetString()!).ToArray());
        var done = steps.Last();
        Assert.Equal("alan", done.GetProperty("learnerId").GetString());
        var code = done.GetProperty("verificationCode").GetString();
        Assert.False(string.IsNullOrEmpty(code));

        using var journey = signIn.NewJourney();
        var verdict = await journey.Verification().VerifyCertificateAsync(new() { VerificationCode = code });
        Assert.Equal(Vigil.Contracts.Certificate.V1.VerificationResult.Valid, verdict.Result);
    }

    /// <summary>Runs `vigil demo` with these arguments, waits for it (4 minutes at most) and returns what it printed; a failure shows the stack's logs.</summary>
    private async Task<string> RunDemoAsync(string[] arguments)
    {
        var (code, output, errors) = await CliProcess.RunAsync(["demo", .. arguments]);
        Assert.True(code == 0, $"vigil demo exited {code}:\n{output}\n{errors}\n{signIn.Processes.Logs()}");
        return output;
    }
}
