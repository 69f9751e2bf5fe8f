using System.Text.Json;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>The README's run command's heart: `vigil demo` takes one learner through a whole exam via the gateway.</summary>
[Collection(StackCollection.Name)]
public sealed class CliDemoTests(EndToEndStack stack, SignInStack signIn)
{
    [Fact]
    public async Task Vigil_demo_with_the_provider_gets_its_tokens_there_and_prints_how_to_sign_in_not_a_token()
    {
        // What scripts/run.sh runs: Vigil trusting the development provider only, the demo users by password.
        // No development key anywhere near: the CLI's default key would be refused by this stack anyway.
        var output = await RunDemoAsync(["--gateway", signIn.Processes.Gateway.GrpcAddress.ToString().TrimEnd('/'),
            "--dashboard-url", signIn.Pages.ToString().TrimEnd('/'), "--provider", signIn.Provider.Issuer.ToString()],
            () => signIn.Processes.Logs(), ("VIGIL_DEV_KEY", ""));
        Assert.Contains("Learner Ada Lovelace (ada), course course-demo", output, StringComparison.Ordinal);
        Assert.Contains($"{signIn.Pages.ToString().TrimEnd('/')}/dashboard: sign in as ada (password vigil-demo)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("token=", output, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vigil_demo_takes_a_learner_to_a_verified_certificate_through_the_gateway()
    {
        var output = await RunDemoAsync(["--json", "--gateway", stack.GatewayGrpc.ToString().TrimEnd('/'), "--dashboard-url", stack.GatewayPages.ToString().TrimEnd('/'),
            "--issuer", TestTokens.Issuer, "--audience", TestTokens.Audience], () => stack.Logs());

        var steps = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["email", "exam", "verification", "exam", "decision", "done"],
            steps.Where(s => s.TryGetProperty("step", out _)).Select(s => s.GetProperty("step").GetString()!).ToArray());
        var done = steps.Last();
        var code = done.GetProperty("verificationCode").GetString();
        Assert.False(string.IsNullOrEmpty(code));

        using var journey = stack.NewJourney();
        var verdict = await journey.Verification().VerifyCertificateAsync(new() { VerificationCode = code });
        Assert.Equal(Vigil.Contracts.Certificate.V1.VerificationResult.Valid, verdict.Result);
    }

    /// <summary>Runs `vigil demo` with these arguments (and environment), waits for it (4 minutes at most) and returns what it printed; a failure shows the stack's logs.</summary>
    private static async Task<string> RunDemoAsync(string[] arguments, Func<string> logs, params (string Name, string Value)[] environment)
    {
        var (code, output, errors) = await CliProcess.RunAsync(["demo", .. arguments], environment);
        Assert.True(code == 0, $"vigil demo exited {code}:\n{output}\n{errors}\n{logs()}");
        return output;
    }
}
