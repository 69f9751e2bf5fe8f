using System.CommandLine;
using Vigil.Cli.Cli;
using Vigil.Contracts.Certificate.V1;

namespace Vigil.Cli.Commands;

/// <summary>Results: the learner's dashboard and the public check of a certificate.</summary>
internal static class ResultCommands
{
    /// <summary><c>vigil dashboard [--watch]</c>.</summary>
    public static Command Dashboard(VigilCommandLine cli)
    {
        var watch = new Option<bool>("--watch") { Description = "Stay connected and print each change as it happens (Ctrl-C to stop)" };
        var dashboard = new Command("dashboard", "The learner's results and certificates") { watch };
        cli.OnGateway(dashboard, async (call, cancellationToken) =>
        {
            if (call.Get(watch))
            {
                await call.Journey.WatchAsync(call.RequireToken(), null, TimeSpan.FromDays(1), cancellationToken);
                return 0;
            }
            call.Output.Emit(await call.Journey.DashboardAsync(call.RequireToken()));
            return 0;
        });
        return dashboard;
    }

    /// <summary><c>vigil certificate verify CODE</c>: no token needed; exit code 1 unless the certificate is valid.</summary>
    public static Command Certificate(VigilCommandLine cli)
    {
        var code = new Argument<string>("CODE") { Description = "The certificate's verification code" };
        var verify = new Command("verify", "Check a certificate by its code (anyone, no token)") { code };
        cli.OnGateway(verify, async (call, _) =>
        {
            var r = await call.Journey.VerifyCertificateAsync(call.Get(code));
            call.Output.Emit(r);
            return r.Result == VerificationResult.Valid ? 0 : 1;
        });
        return new Command("certificate", "Certificates") { verify };
    }
}
