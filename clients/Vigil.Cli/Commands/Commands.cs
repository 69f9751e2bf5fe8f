using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Vigil.Cli.Cli;
using Vigil.Cli.Images;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;

namespace Vigil.Cli.Commands;

/// <summary>The subcommands.</summary>
internal static class Commands
{
    public const string Usage = """
        vigil — the Vigil proctoring client (talks to the gateway over gRPC)

        Global options: --gateway URL (default http://127.0.0.1:5100, or VIGIL_GATEWAY)
                        --token TOKEN (or VIGIL_TOKEN) | --as role:subject[:course,...] (development key)
                        --json (machine-readable output)

          vigil token mint --role learner|board|staff|ops --sub ID [--course C]... [--name N] [--lifetime 01:00:00]
          vigil email check EMAIL
          vigil register --email EMAIL --name "DISPLAY NAME"
          vigil verify system|mic|room --exam EXAM
          vigil verify id-photo FILE --exam EXAM        vigil verify face-photo FILE --exam EXAM
          vigil verify status --exam EXAM
          vigil images --out DIR                        (writes sample id-document.jpg and face.jpg)
          vigil exam create EXAM.json                   (course staff; proto JSON of vigil.session.v1.Exam)
          vigil session start --exam EXAM
          vigil session run --session S --answers ANSWERS.json [--no-final-check]
                (ANSWERS.json: {"q1": {"choice": {"optionIds": ["a"]}}, "q2": {"number": 5}, "q3": {"text": "..."}})
          vigil session final-check --session S --last-seq N
          vigil session receipt --session S
          vigil board list --course C [--awaiting]
          vigil board review --session S
          vigil board decide --session S --outcome valid|refused|withdrawn [--reason headphones] [--notes TEXT] [--expected-version N]
          vigil dashboard [--watch]
          vigil certificate verify CODE
          vigil demo [--dashboard-url http://127.0.0.1:5180]
        """;

    public static async Task<int> RunAsync(Args args, Output output, CancellationToken cancellationToken)
    {
        if (args.Positional.Count == 0 || args.Has("help"))
        {
            Console.WriteLine(Usage);
            return args.Positional.Count == 0 && !args.Has("help") ? 2 : 0;
        }
        var command = args.Positional[0];
        if (command == "token") return MintToken(args, output);
        if (command == "images") return WriteImages(args, output);

        using var connection = GatewayConnection.From(args);
        var journey = new Journey(connection, output);
        var token = GatewayConnection.TokenFrom(args);
        string RequireToken() => token ?? throw new UsageException("This command needs a token: --token, VIGIL_TOKEN or --as role:subject.");

        switch (command)
        {
            case "email" when args.Word(1, "email subcommand") == "check":
                {
                    var r = await journey.CheckEmailAsync(token, args.Word(2, "email address"));
                    output.Emit(r);
                    return r.Verdict == EmailVerdict.Accepted ? 0 : 1;
                }
            case "register":
                output.Emit(await journey.RegisterAsync(RequireToken(), args.Require("email"), args.Require("name")));
                return 0;
            case "verify":
                return await VerifyAsync(args, journey, RequireToken());
            case "exam" when args.Word(1, "exam subcommand") == "create":
                {
                    var exam = JsonParser.Default.Parse<Exam>(await File.ReadAllTextAsync(args.Word(2, "exam JSON file"), cancellationToken));
                    var created = await journey.CreateExamAsync(RequireToken(), exam);
                    output.Emit(created);
                    return 0;
                }
            case "session":
                return await SessionAsync(args, journey, RequireToken(), cancellationToken);
            case "board":
                return await BoardAsync(args, journey, RequireToken());
            case "dashboard":
                if (args.Has("watch"))
                {
                    await journey.WatchAsync(RequireToken(), null, TimeSpan.FromDays(1), cancellationToken);
                    return 0;
                }
                output.Emit(await journey.DashboardAsync(RequireToken()));
                return 0;
            case "certificate" when args.Word(1, "certificate subcommand") == "verify":
                {
                    var r = await journey.VerifyCertificateAsync(args.Word(2, "verification code"));
                    output.Emit(r);
                    return r.Result == Vigil.Contracts.Certificate.V1.VerificationResult.Valid ? 0 : 1;
                }
            case "demo":
                return await new Demo(args, journey, output).RunAsync(cancellationToken);
            default:
                throw new UsageException($"Unknown command '{string.Join(' ', args.Positional)}'.");
        }
    }

    private static int MintToken(Args args, Output output)
    {
        if (args.Word(1, "token subcommand") != "mint") throw new UsageException("vigil token mint …");
        var lifetime = args.Get("lifetime") is { } l ? TimeSpan.Parse(l, System.Globalization.CultureInfo.InvariantCulture) : (TimeSpan?)null;
        var token = DevTokens.Mint(args, args.Require("role"), args.Require("sub"), args.GetAll("course"), args.Get("name"), lifetime);
        if (output.Json) output.Emit(new JsonObject { ["token"] = token });
        else Console.WriteLine(token);
        return 0;
    }

    private static int WriteImages(Args args, Output output)
    {
        var dir = args.Get("out") ?? ".";
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "id-document.jpg"), SampleImages.IdDocument());
        File.WriteAllBytes(Path.Combine(dir, "face.jpg"), SampleImages.Face());
        output.Ok($"wrote {Path.Combine(dir, "id-document.jpg")} and {Path.Combine(dir, "face.jpg")}");
        output.Emit(new JsonObject { ["idDocument"] = Path.Combine(dir, "id-document.jpg"), ["face"] = Path.Combine(dir, "face.jpg") });
        return 0;
    }

    private static async Task<int> VerifyAsync(Args args, Journey journey, string token)
    {
        var what = args.Word(1, "verify subcommand");
        var exam = args.Require("exam");
        switch (what)
        {
            case "system":
                journey.Output.Emit(await journey.CompleteStepAsync(token, exam, VerificationStep.SystemCheck, args.Get("details") ?? "browser ok, camera ok, screen share ok"));
                return 0;
            case "mic":
                journey.Output.Emit(await journey.CompleteStepAsync(token, exam, VerificationStep.MicrophoneTest, args.Get("details") ?? "mic level -23 dBFS"));
                return 0;
            case "room":
                journey.Output.Emit(await journey.CompleteStepAsync(token, exam, VerificationStep.RoomScan, args.Get("details") ?? "room scanned"));
                return 0;
            case "id-photo":
            case "face-photo":
                {
                    var file = args.Word(2, "image file");
                    var kind = what == "id-photo" ? PhotoKind.IdDocument : PhotoKind.Face;
                    var r = await journey.UploadPhotoAsync(token, exam, kind, await File.ReadAllBytesAsync(file), what == "id-photo" ? "ID-document photo" : "face photo");
                    journey.Output.Emit(r);
                    return r.Verdict == PhotoVerdict.Accepted ? 0 : 1;
                }
            case "status":
                journey.Output.Emit(await journey.StatusAsync(token, exam));
                return 0;
            default:
                throw new UsageException($"Unknown verify step '{what}'.");
        }
    }

    private static async Task<int> SessionAsync(Args args, Journey journey, string token, CancellationToken cancellationToken)
    {
        switch (args.Word(1, "session subcommand"))
        {
            case "start":
                journey.Output.Emit(await journey.StartAsync(token, args.Require("exam")));
                return 0;
            case "run":
                {
                    var session = args.Require("session");
                    var answers = ParseAnswers(await File.ReadAllTextAsync(args.Require("answers"), cancellationToken));
                    var last = await journey.RunAsync(token, session, answers, cancellationToken: cancellationToken);
                    if (args.Has("no-final-check"))
                    {
                        journey.Output.Line($"    last acknowledged save: {last} (run `vigil session final-check --session {session} --last-seq {last}` to submit)");
                        journey.Output.Emit(new JsonObject { ["sessionId"] = session, ["lastAckedSequence"] = last });
                        return 0;
                    }
                    journey.Output.Emit(await journey.FinalCheckAsync(token, session, last));
                    return 0;
                }
            case "final-check":
                journey.Output.Emit(await journey.FinalCheckAsync(token, args.Require("session"), long.Parse(args.Require("last-seq"), System.Globalization.CultureInfo.InvariantCulture)));
                return 0;
            case "receipt":
                journey.Output.Emit(await journey.ReceiptAsync(token, args.Require("session")));
                return 0;
            default:
                throw new UsageException("vigil session start|run|final-check|receipt");
        }
    }

    private static async Task<int> BoardAsync(Args args, Journey journey, string token)
    {
        switch (args.Word(1, "board subcommand"))
        {
            case "list":
                journey.Output.Emit(await journey.BoardListAsync(token, args.Require("course"), args.Has("awaiting")));
                return 0;
            case "review":
                journey.Output.Emit(await journey.BoardReviewAsync(token, args.Require("session")));
                return 0;
            case "decide":
                {
                    var outcome = args.Require("outcome") switch
                    {
                        "valid" => DecisionOutcome.Valid,
                        "refused" => DecisionOutcome.Refused,
                        "withdrawn" => DecisionOutcome.Withdrawn,
                        var o => throw new UsageException($"Unknown outcome '{o}': valid, refused or withdrawn."),
                    };
                    var reason = args.Get("reason") is { } r ? ParseReason(r) : RefusalReason.Unspecified;
                    var expected = args.Get("expected-version") is { } v ? long.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : 0;
                    journey.Output.Emit(await journey.DecideAsync(token, args.Require("session"), outcome, reason, args.Get("notes") ?? string.Empty, expected));
                    return 0;
                }
            default:
                throw new UsageException("vigil board list|review|decide");
        }
    }

    public static RefusalReason ParseReason(string text)
    {
        var wanted = text.Replace('-', ' ').Replace('_', ' ').Trim().ToLowerInvariant();
        foreach (var value in System.Enum.GetValues<RefusalReason>())
        {
            if (Journey.Name(value) == wanted) return value;
        }
        throw new UsageException($"Unknown reason '{text}': " + string.Join(", ", System.Enum.GetValues<RefusalReason>().Skip(1).Select(v => Journey.Name(v).Replace(' ', '-'))));
    }

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
