using System.CommandLine;
using System.Text.Json.Nodes;
using Vigil.Cli.Cli;
using Vigil.Cli.Images;
using Vigil.Contracts.Identity.V1;

namespace Vigil.Cli.Commands;

/// <summary>The learner's identity: the email check, registration, the verification phase, sample photos.</summary>
internal static class IdentityCommands
{
    /// <summary><c>vigil email check EMAIL</c>: exit code 1 when the address is refused.</summary>
    public static Command Email(VigilCommandLine cli)
    {
        var address = new Argument<string>("EMAIL") { Description = "The address to check" };
        var check = new Command("check", "Check an email address before registering (aliases are refused, with the address to use)") { address };
        cli.OnGateway(check, async (call, _) =>
        {
            var r = await call.Journey.CheckEmailAsync(call.Token, call.Get(address));
            call.Output.Emit(r);
            return r.Verdict == EmailVerdict.Accepted ? 0 : 1;
        });
        return new Command("email", "Email addresses") { check };
    }

    /// <summary><c>vigil register --email EMAIL --name NAME</c>.</summary>
    public static Command Register(VigilCommandLine cli)
    {
        var email = OptionKinds.Required("--email", "EMAIL", "The learner's email address (no alias)");
        var name = OptionKinds.Required("--name", "NAME", "The learner's display name");
        var register = new Command("register", "Register the calling learner") { email, name };
        cli.OnGateway(register, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.RegisterAsync(call.RequireToken(), call.Get(email), call.Get(name)));
            return 0;
        });
        return register;
    }

    /// <summary><c>vigil verify system|mic|room|id-photo|face-photo|status --exam EXAM</c>.</summary>
    public static Command Verify(VigilCommandLine cli)
    {
        var verify = new Command("verify", "The verification phase, step by step, in order: system, mic, id-photo, face-photo (room when the exam asks)");
        verify.Subcommands.Add(Step(cli, "system", "The system check (browser, camera, screen share)", VerificationStep.SystemCheck, "browser ok, camera ok, screen share ok"));
        verify.Subcommands.Add(Step(cli, "mic", "The microphone test", VerificationStep.MicrophoneTest, "mic level -23 dBFS"));
        verify.Subcommands.Add(Step(cli, "room", "The room scan", VerificationStep.RoomScan, "room scanned"));
        verify.Subcommands.Add(Photo(cli, "id-photo", "Upload the photo of the ID document (the document, not your face)", PhotoKind.IdDocument, "ID-document photo"));
        verify.Subcommands.Add(Photo(cli, "face-photo", "Upload the photo of your face", PhotoKind.Face, "face photo"));
        var exam = OptionKinds.Exam();
        var status = new Command("status", "Where the learner stands in the verification phase") { exam };
        cli.OnGateway(status, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.StatusAsync(call.RequireToken(), call.Get(exam)));
            return 0;
        });
        verify.Subcommands.Add(status);
        return verify;
    }

    private static Command Step(VigilCommandLine cli, string name, string description, VerificationStep step, string defaultDetails)
    {
        var exam = OptionKinds.Exam();
        var details = new Option<string>("--details")
        {
            HelpName = "TEXT",
            Description = "What the check found",
            DefaultValueFactory = _ => defaultDetails,
        };
        var command = new Command(name, description) { exam, details };
        cli.OnGateway(command, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.CompleteStepAsync(call.RequireToken(), call.Get(exam), step, call.Get(details)));
            return 0;
        });
        return command;
    }

    private static Command Photo(VigilCommandLine cli, string name, string description, PhotoKind kind, string label)
    {
        var file = OptionKinds.ExistingFile("FILE", "The photo (JPEG or PNG)");
        var exam = OptionKinds.Exam();
        var command = new Command(name, description) { file, exam };
        cli.OnGateway(command, async (call, cancellationToken) =>
        {
            var bytes = await File.ReadAllBytesAsync(call.Get(file).FullName, cancellationToken);
            var r = await call.Journey.UploadPhotoAsync(call.RequireToken(), call.Get(exam), kind, bytes, label);
            call.Output.Emit(r);
            return r.Verdict == PhotoVerdict.Accepted ? 0 : 1;
        });
        return command;
    }

    /// <summary><c>vigil images --out DIR</c>: the sample photos, to try the client without a camera (offline).</summary>
    public static Command Images(VigilCommandLine cli)
    {
        var output = new Option<DirectoryInfo>("--out")
        {
            HelpName = "DIR",
            Description = "Where to write id-document.jpg and face.jpg [default: the current folder]",
            DefaultValueFactory = _ => new DirectoryInfo("."),
        };
        var images = new Command("images", "Write sample photos: id-document.jpg and face.jpg") { output };
        cli.Offline(images, (parse, o) =>
        {
            var dir = parse.GetValue(output)!.FullName;
            Directory.CreateDirectory(dir);
            var idPath = Path.Combine(dir, "id-document.jpg");
            var facePath = Path.Combine(dir, "face.jpg");
            File.WriteAllBytes(idPath, SampleImages.IdDocument());
            File.WriteAllBytes(facePath, SampleImages.Face());
            o.Ok($"wrote {idPath} and {facePath}");
            o.Emit(new JsonObject { ["idDocument"] = idPath, ["face"] = facePath });
            return 0;
        });
        return images;
    }
}
