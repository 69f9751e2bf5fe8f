using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Vigil.Cli.Cli;
using Vigil.Contracts.Session.V1;

namespace Vigil.Cli.Commands;

/// <summary>Exams (course staff) and exam sessions (the learner): start, the exam stream, the final check, the receipt.</summary>
internal static class ExamCommands
{
    /// <summary><c>vigil exam create EXAM.json [--max-attempts N] [--practice]</c>.</summary>
    public static Command Exam(VigilCommandLine cli)
    {
        var file = OptionKinds.ExistingFile("EXAM.json", "The exam, as the proto JSON of vigil.session.v1.Exam");
        var maxAttempts = new Option<int?>("--max-attempts")
        {
            HelpName = "N",
            Description = "Attempts per learner, 1 to 10 (default: the file's max_attempts, else 1)",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= 10) return n;
                result.AddError($"--max-attempts takes a whole number from 1 to 10, not '{text}'.");
                return null;
            },
        };
        var practice = new Option<bool>("--practice") { Description = "A practice exam: its sessions never reach the certificate service" };
        var create = new Command("create", "Create an exam (course staff)") { file, maxAttempts, practice };
        cli.OnGateway(create, async (call, cancellationToken) =>
        {
            var exam = JsonParser.Default.Parse<Exam>(await File.ReadAllTextAsync(call.Get(file).FullName, cancellationToken));
            if (call.Get(maxAttempts) is { } n) exam.MaxAttempts = n;
            if (call.Get(practice)) exam.Kind = ExamKind.Practice;
            call.Output.Emit(await call.Journey.CreateExamAsync(call.RequireToken(), exam));
            return 0;
        });

        var exam = OptionKinds.Exam();
        var learner = OptionKinds.Required("--learner", "LEARNER", "The learner's id");
        var multiplier = new Option<double>("--time-multiplier")
        {
            HelpName = "X",
            Description = "The time limit times X (1 to 4; default 1)",
            DefaultValueFactory = _ => 1,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var x) && x >= 1 && x <= 4) return x;
                result.AddError($"--time-multiplier takes a number from 1 to 4, not '{text}'.");
                return 1;
            },
        };
        var grace = OptionKinds.Count("--grace-minutes", "N", "Minutes after the deadline during which saves and the final check are still accepted");
        var headphones = new Option<bool>("--headphones") { Description = "Headphones allowed to this learner (no headphones incident for them)" };
        var reason = OptionKinds.Required("--reason", "TEXT", "Why, for the record");
        var allow = new Command("allow", "Set a learner's allowance on an exam (course staff): time multiplier, grace period, headphones") { exam, learner, multiplier, grace, headphones, reason };
        cli.OnGateway(allow, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.GrantAllowanceAsync(call.RequireToken(), new GrantAllowanceRequest
            {
                ExamId = call.Get(exam),
                LearnerId = call.Get(learner),
                TimeMultiplier = call.Get(multiplier),
                GracePeriod = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMinutes(call.Get(grace))),
                AllowedRules = new ExamRules { HeadphonesAllowed = call.Get(headphones) },
                Reason = call.Get(reason)!,
            }));
            return 0;
        });

        var resetExam = OptionKinds.Exam();
        var resetLearner = OptionKinds.Required("--learner", "LEARNER", "The learner's id");
        var resetReason = OptionKinds.Required("--reason", "TEXT", "Why, for the record");
        var reset = new Command("reset", "Reset a learner's latest attempt once ended (course staff): it no longer counts, they may start again; the old one is kept, marked") { resetExam, resetLearner, resetReason };
        cli.OnGateway(reset, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.ResetAttemptAsync(call.RequireToken(), call.Get(resetExam), call.Get(resetLearner), call.Get(resetReason)!));
            return 0;
        });
        return new Command("exam", "Exams (course staff)") { create, allow, reset };
    }

    /// <summary><c>vigil session start|run|final-check|receipt</c>.</summary>
    public static Command Session(VigilCommandLine cli)
    {
        var session = new Command("session", "The learner's exam session");

        var exam = OptionKinds.Exam();
        var start = new Command("start", "Start the exam (after the verification phase)") { exam };
        cli.OnGateway(start, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.StartAsync(call.RequireToken(), call.Get(exam)));
            return 0;
        });
        session.Subcommands.Add(start);

        var runSession = OptionKinds.Session();
        var answers = OptionKinds.ExistingFile("--answers", "ANSWERS.json",
            """Question ids to vigil.session.v1.Answer in JSON: {"q1": {"choice": {"optionIds": ["a"]}}, "q2": {"number": 5}, "q3": {"text": "..."}}""");
        var noFinalCheck = new Option<bool>("--no-final-check") { Description = "Save the answers but do not submit them" };
        var pace = new Option<TimeSpan>("--pace")
        {
            HelpName = "HH:MM:SS",
            Description = "Wait this long between two saves, as a learner answers over time (default: none)",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var t) && t >= TimeSpan.Zero && t <= TimeSpan.FromHours(1)) return t;
                result.AddError($"--pace takes a duration from 00:00:00 to 01:00:00 (e.g. 00:00:30), not '{text}'.");
                return TimeSpan.Zero;
            },
        };
        var run = new Command("run", "Open the exam stream, send heartbeats and the answers, wait for every save's acknowledgement, then the final check")
        {
            runSession, answers, noFinalCheck, pace,
        };
        cli.OnGateway(run, async (call, cancellationToken) =>
        {
            call.RequireToken();
            var id = call.Get(runSession);
            var parsed = ParseAnswers(await File.ReadAllTextAsync(call.Get(answers).FullName, cancellationToken));
            var last = await RunWithReconnectsAsync(call, id, parsed, call.Get(pace), cancellationToken);
            // A long exam may have outlived the token the stream opened with: the final check asks for a fresh one.
            var token = await call.FreshTokenAsync(renew: false, cancellationToken);
            if (call.Get(noFinalCheck))
            {
                call.Output.Line($"    last acknowledged save: {last} (run `vigil session final-check --session {id} --last-seq {last}` to submit)");
                call.Output.Emit(new JsonObject { ["sessionId"] = id, ["lastAckedSequence"] = last });
                return 0;
            }
            call.Output.Emit(await call.Journey.FinalCheckAsync(token, id, last));
            return 0;
        });
        session.Subcommands.Add(run);

        var checkSession = OptionKinds.Session();
        var lastSeq = OptionKinds.Count("--last-seq", "N", "The last acknowledged save's sequence", required: true);
        var finalCheck = new Command("final-check", "Validate the answers saved up to a sequence: the submission; prints the receipt") { checkSession, lastSeq };
        cli.OnGateway(finalCheck, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.FinalCheckAsync(call.RequireToken(), call.Get(checkSession), call.Get(lastSeq)));
            return 0;
        });
        session.Subcommands.Add(finalCheck);

        var receiptSession = OptionKinds.Session();
        var receipt = new Command("receipt", "The receipt of a submitted session: exactly what was recorded") { receiptSession };
        cli.OnGateway(receipt, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.ReceiptAsync(call.RequireToken(), call.Get(receiptSession)));
            return 0;
        });
        session.Subcommands.Add(receipt);

        var pageSize = OptionKinds.Count("--page-size", "N", "Sessions per page (default 50, at most 500)");
        var pageToken = new Option<string>("--page-token") { HelpName = "TOKEN", Description = "The next page (printed after a page)" };
        var mine = new Command("list", "Your own sessions, the latest start first") { pageSize, pageToken };
        cli.OnGateway(mine, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.MySessionsAsync(call.RequireToken(), (int)call.Get(pageSize), call.Get(pageToken)));
            return 0;
        });
        session.Subcommands.Add(mine);

        var problemSession = OptionKinds.Session();
        var description = OptionKinds.Required("--description", "TEXT", "What went wrong (during the exam or within the window after it)");
        var problem = new Command("report-problem", "Report a technical problem with your session to the course team and the exam board") { problemSession, description };
        cli.OnGateway(problem, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.ReportProblemAsync(call.RequireToken(), call.Get(problemSession), call.Get(description)!));
            return 0;
        });
        session.Subcommands.Add(problem);
        return session;
    }

    /// <summary>How often a broken exam stream is reopened before the run gives up.</summary>
    private const int StreamAttempts = 5;

    /// <summary>
    /// The exam stream, reopened when the server asks (a replica that drains sends Reconnect: after its delay), when it
    /// breaks (UNAVAILABLE: after the server's pushback or a short backoff) or when a reopen is refused because the
    /// token expired (TOKEN_EXPIRED: once, with a renewed token). The stream was authorized when it opened and outlives
    /// its token; each (re)open asks the stored sign-in for a token first, which is renewed when it is about to expire.
    /// Saves already acknowledged are not sent again; the others are sent again, in order, on the new stream.
    /// </summary>
    private static async Task<long> RunWithReconnectsAsync(Invocation call, string sessionId, IReadOnlyList<(string QuestionId, Answer Answer)> answers, TimeSpan pace,
        CancellationToken cancellationToken)
    {
        var progress = new StreamProgress();
        var renew = false;
        var backoff = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            var token = await call.FreshTokenAsync(renew, cancellationToken);
            try
            {
                return await call.Journey.RunAsync(token, sessionId, answers, progress: progress, pace: pace, cancellationToken: cancellationToken);
            }
            catch (StreamMovedException moved) when (attempt < StreamAttempts)
            {
                renew = false;
                // With jitter: every stream of the replica that drains is told at once.
                var wait = moved.RetryAfter + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 500));
                call.Output.Line($"    ↻ reopening the exam stream in {wait.TotalSeconds:0.#} s");
                await Task.Delay(wait, cancellationToken);
            }
            catch (RpcException ex) when (attempt < StreamAttempts && ex.StatusCode == StatusCode.Unavailable)
            {
                renew = false;
                var wait = ex.Trailers.GetValue("grpc-retry-pushback-ms") is { } ms && long.TryParse(ms, out var pushback) ? TimeSpan.FromMilliseconds(pushback) : backoff;
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(3.2).Ticks));
                call.Output.Line($"    ↻ the exam stream broke ({ex.Status.Detail}): reopening in {wait.TotalSeconds:0.#} s");
                await Task.Delay(wait + wait * (Random.Shared.NextDouble() * 0.5), cancellationToken);
            }
            catch (RpcException ex) when (attempt < StreamAttempts && !renew && call.Renewable && ex.StatusCode == StatusCode.Unauthenticated
                                          && ex.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason == "TOKEN_EXPIRED")
            {
                renew = true;
                call.Output.Line("    ↻ the token expired: reopening the exam stream with a renewed one");
            }
        }
    }

    /// <summary>An answers file: question ids to <c>vigil.session.v1.Answer</c> in proto JSON, in the file's order.</summary>
    public static IReadOnlyList<(string QuestionId, Answer Answer)> ParseAnswers(string json)
    {
        var list = new List<(string, Answer)>();
        using var doc = JsonDocument.Parse(json);
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            list.Add((property.Name, JsonParser.Default.Parse<Answer>(property.Value.GetRawText())));
        }
        return list;
    }
}
