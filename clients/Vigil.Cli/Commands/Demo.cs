using System.CommandLine;
using System.Text.Json.Nodes;
using Grpc.Core;
using Vigil.Cli.Cli;
using Vigil.Cli.Images;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;

namespace Vigil.Cli.Commands;

/// <summary>
/// One learner through a whole exam against the gateway: an alias email refused, registration, a start
/// refused without an ID photo, the verification steps with generated photos, the exam stream, the final
/// check and its receipt, the board's review and decision, the certificate live on the dashboard, and the
/// public check of its code. The tokens are the development provider's (dev/Vigil.DevProvider, <c>--provider</c>,
/// by default scripts/run.sh's http://127.0.0.1:5190/), by password, for its demo users: learner ada, staff sam
/// and board bea of course-demo.
/// </summary>
internal sealed class Demo(Journey journey, Output output)
{
    /// <summary>The development provider's address in scripts/run.sh: the demo's provider unless told.</summary>
    public const string DevelopmentProvider = "http://127.0.0.1:5190/";

    /// <summary><c>vigil demo [--dashboard-url URL] [--course C] [--learner USER] [--provider URL] [--password P]</c>.</summary>
    public static Command Command(VigilCommandLine cli)
    {
        var pages = new Option<string>("--dashboard-url")
        {
            HelpName = "URL",
            Description = "The gateway's pages, for the links printed at the end",
            DefaultValueFactory = _ => "http://127.0.0.1:5180",
        };
        var course = new Option<string>("--course") { HelpName = "COURSE", Description = "The demo's course (its staff member sam and board member bea at the provider serve it)", DefaultValueFactory = _ => "course-demo" };
        var learner = new Option<string>("--learner") { HelpName = "USER", Description = "The demo learner: a learner of the provider (ada, grace, alan)", DefaultValueFactory = _ => "ada" };
        var provider = new Option<string>("--provider")
        {
            HelpName = "URL",
            Description = "The development identity provider (dev/Vigil.DevProvider): the demo users' tokens, by password",
            DefaultValueFactory = _ => DevelopmentProvider,
        };
        provider.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                result.AddError($"--provider takes the identity provider's http(s) address (its issuer), not '{value}'.");
            }
        });
        var password = new Option<string>("--password") { HelpName = "PASSWORD", Description = "The demo users' password at --provider", DefaultValueFactory = _ => "vigil-demo" };
        var demo = new Command("demo", "One learner through a whole exam, the board's decision and the certificate") { pages, course, learner, provider, password };
        cli.OnGateway(demo, async (call, cancellationToken) =>
        {
            using var tokens = new ProviderTokens(new Uri(call.Get(provider)));
            var secret = call.Get(password);
            var learnerUser = call.Get(learner);
            return await new Demo(call.Journey, call.Output).RunAsync(call.Gateway, call.Get(pages), call.Get(course), learnerUser,
                async () => (await tokens.PasswordAsync(learnerUser, secret, "vigil", cancellationToken),
                    await tokens.PasswordAsync("sam", secret, "vigil", cancellationToken),
                    await tokens.PasswordAsync("bea", secret, "vigil", cancellationToken)),
                (learnerUser, secret), cancellationToken);
        });
        return demo;
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..6];

    public async Task<int> RunAsync(string gateway, string dashboardUrl, string course, string learnerId,
        Func<Task<(string Learner, string Staff, string Board)>> getTokens, (string User, string Password) signIn, CancellationToken cancellationToken)
    {
        var suffix = Suffix();
        const string learnerName = "Ada Lovelace";
        var (learner, staff, board) = await getTokens();
        var aliasEmail = $"ada.{suffix}+exam@example.org";

        output.Line($"Vigil demo through the gateway {gateway}");
        output.Line($"Learner {learnerName} ({learnerId}), course {course}");
        output.Line();

        // 1. The email: an alias is refused early, with the address to use instead.
        output.Step("1. Email check and registration");
        var check = await journey.CheckEmailAsync(learner, aliasEmail);
        if (check.Verdict != EmailVerdict.Refused) throw new InvalidOperationException("The alias address was accepted.");
        var email = check.SuggestedEmail.Length > 0 ? check.SuggestedEmail : $"ada.{suffix}@example.org";
        await ExpectRefusal(StatusCode.InvalidArgument, "registering with the alias", () => journey.RegisterAsync(learner, aliasEmail, learnerName));
        await journey.CheckEmailAsync(learner, email);
        var registered = await journey.RegisterAsync(learner, email, learnerName);
        output.Emit(new JsonObject { ["step"] = "email", ["refused"] = aliasEmail, ["registered"] = Output.ToNode(registered) });

        // 2. Course staff create the exam.
        output.Step("2. Course staff create the exam");
        var exam = await journey.CreateExamAsync(staff, SampleExam.Create(course, DateTime.UtcNow));
        try
        {
            await journey.ConfigureVerificationAsync(staff, exam);
        }
        catch (RpcException ex)
        {
            output.Line($"    (verification configured by the session service: {ex.StatusCode})");
        }
        output.Emit(new JsonObject { ["step"] = "exam", ["exam"] = Output.ToNode(exam) });

        // 3. No exam without the verification phase (no ID photo, no exam).
        output.Step("3. Starting before the verification phase is refused");
        await ExpectRefusal(StatusCode.FailedPrecondition, "starting the exam without an ID photo", () => journey.StartAsync(learner, exam.ExamId));

        // 4. The verification phase, in order, with real images.
        output.Step("4. Verification: system check, microphone, ID document, face");
        await journey.CompleteStepAsync(learner, exam.ExamId, VerificationStep.SystemCheck, "browser ok, camera ok, screen share ok");
        await journey.CompleteStepAsync(learner, exam.ExamId, VerificationStep.MicrophoneTest, "mic level -23 dBFS");
        var id = await journey.UploadPhotoAsync(learner, exam.ExamId, PhotoKind.IdDocument, SampleImages.IdDocument(), "ID-document photo");
        if (id.Verdict != PhotoVerdict.Accepted) throw new InvalidOperationException("The ID-document photo was rejected.");
        var face = await journey.UploadPhotoAsync(learner, exam.ExamId, PhotoKind.Face, SampleImages.Face(), "face photo");
        if (face.Verdict != PhotoVerdict.Accepted) throw new InvalidOperationException("The face photo was rejected.");
        var status = await journey.StatusAsync(learner, exam.ExamId);
        if (!status.MayStartExam) throw new InvalidOperationException("The verification phase is not complete.");
        output.Emit(new JsonObject { ["step"] = "verification", ["status"] = Output.ToNode(status) });

        // 5. The exam: start, stream heartbeats and saves, the final check and its receipt.
        output.Step("5. The exam: start, answers saved on the stream, final check");
        var started = await journey.StartAsync(learner, exam.ExamId);
        var sessionId = started.Session.SessionId;
        var last = await journey.RunAsync(learner, sessionId, SampleExam.Answers(), cancellationToken: cancellationToken);
        var receipt = await journey.FinalCheckAsync(learner, sessionId, last);
        output.Emit(new JsonObject { ["step"] = "exam", ["sessionId"] = sessionId, ["receipt"] = Output.ToNode(receipt) });

        // 6. The exam board reviews and decides.
        output.Step("6. The exam board reviews the session and decides");
        await WaitForReview(board, course, sessionId, cancellationToken);
        var record = await journey.BoardReviewAsync(board, sessionId);
        var decision = await journey.DecideAsync(board, sessionId, DecisionOutcome.Valid, RefusalReason.Unspecified, "Identity checked, no incident.");
        output.Emit(new JsonObject { ["step"] = "decision", ["score"] = record.Score, ["decision"] = Output.ToNode(decision) });

        // 7. The certificate appears on the learner's dashboard.
        output.Step("7. The learner's dashboard");
        var entry = await journey.WatchAsync(learner, e => e.SessionId == sessionId && e.Status == ResultStatus.Certified, TimeSpan.FromSeconds(60), cancellationToken)
            ?? throw new InvalidOperationException("The dashboard stream ended before the certificate appeared.");
        var code = entry.Certificate?.VerificationCode ?? throw new InvalidOperationException("The certified entry has no certificate.");

        // 8. Anyone can check the certificate by its code.
        output.Step("8. Public verification of the certificate");
        var verdict = await journey.VerifyCertificateAsync(code);
        if (verdict.Result != VerificationResult.Valid) throw new InvalidOperationException("The certificate does not verify.");

        var pages = dashboardUrl.TrimEnd('/');
        output.Line();
        output.Line($"Dashboard page: {pages}/dashboard: sign in as {signIn.User} (password {signIn.Password}) at the identity provider");
        output.Line($"Public verification page: {pages}/verify?code={Uri.EscapeDataString(code)}");
        output.Emit(new JsonObject
        {
            ["step"] = "done",
            ["learnerId"] = learnerId,
            ["examId"] = exam.ExamId,
            ["sessionId"] = sessionId,
            ["verificationCode"] = code,
            ["dashboardUrl"] = $"{pages}/dashboard",
            ["verifyUrl"] = $"{pages}/verify?code={Uri.EscapeDataString(code)}",
        });
        return 0;
    }

    private async Task ExpectRefusal(StatusCode code, string what, Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (RpcException ex) when (ex.StatusCode == code)
        {
            var lines = Errors.Describe(ex);
            output.No($"{what}: refused as expected — {lines[0]}");
            foreach (var line in lines.Skip(1)) output.Line("      " + line);
            return;
        }
        throw new InvalidOperationException($"Expected {code} when {what}, but it succeeded.");
    }

    private async Task WaitForReview(string board, string course, string sessionId, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var list = await journey.BoardListAsync(board, course, ReviewFilter.Unspecified, pageSize: 0, pageToken: null, allPages: true);
            if (list.Sessions.Any(s => s.Session.SessionId == sessionId)) return;
            if (DateTime.UtcNow > until) throw new TimeoutException("The submitted session did not reach the board's list.");
            await Task.Delay(500, cancellationToken);
        }
    }
}
