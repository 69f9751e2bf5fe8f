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

    /// <summary><c>vigil results export --course C --out FILE.csv</c>: the course team's export of a course's results.</summary>
    public static Command Results(VigilCommandLine cli)
    {
        var course = OptionKinds.Course();
        var output = OptionKinds.Required("--out", "FILE", "Where to write the CSV (replaced)");
        var pageSize = OptionKinds.Count("--page-size", "N", "Rows per streamed page (default 200, at most 1000)");
        var export = new Command("export", "Stream the course's results (learner, exam, state, score, decision) into a CSV file, with progress") { course, output, pageSize };
        cli.OnGateway(export, async (call, cancellationToken) =>
        {
            var path = call.Get(output)!;
            await using (var file = new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false)))
            {
                var rows = await call.Journey.ExportResultsAsync(call.RequireToken(), call.Get(course), (int)call.Get(pageSize), file,
                    call.Output.Json ? null : Console.Error, cancellationToken);
                call.Output.Emit(new System.Text.Json.Nodes.JsonObject { ["course"] = call.Get(course), ["rows"] = rows, ["out"] = path });
            }
            return 0;
        });
        return new Command("results", "A course's results (course staff)") { export };
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
