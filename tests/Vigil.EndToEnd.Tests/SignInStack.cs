using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// Vigil trusting the real development provider (dev/Vigil.DevProvider, a process of its own): every service and
/// the gateway take Auth:Authority; the services get their tokens for each other by client credentials; the
/// gateway's pages sign people in at the provider (Gateway:SignIn, the vigil-gateway client, whose redirect URI
/// names this gateway's port). Its own RabbitMQ virtual host ("signin") and Redis database, so it never shares
/// events or outboxes with <see cref="EndToEndStack"/>.
/// </summary>
public sealed class SignInStack : IAsyncLifetime
{
    public DevProvider Provider { get; private set; } = null!;

    public ProcessStack Processes { get; private set; } = null!;

    /// <summary>The gateway's pages address.</summary>
    public Uri Pages => Processes.Gateway.HttpAddress;

    public async Task InitializeAsync()
    {
        var pagesPort = ServiceProcess.FreePort();
        Provider = await DevProvider.StartAsync(new Dictionary<string, string?> { ["DevProvider:GatewayUrls:0"] = $"http://127.0.0.1:{pagesPort}" });
        var trust = new Dictionary<string, string?>(Provider.HostSettings)
        {
            ["Auth:ServiceToken"] = "",
            // A short-lived token really expires during a test (ExamStreamTokenTests).
            ["Auth:ClockSkew"] = "00:00:00",
            ["Hosting:DrainDelay"] = "00:00:00.100",
        };
        Processes = await ProcessStack.StartAsync(new ProcessStackOptions
        {
            RabbitMqUri = TestEnvironment.RabbitMq("signin"),
            Redis = TestEnvironment.Redis + ",defaultDatabase=5",
            Settings = trust,
            IdentitySettings = Client("vigil-identity", "dev-identity-secret"),
            SessionSettings = Client("vigil-session", "dev-session-secret"),
            CertificateSettings = Client("vigil-certificate", "dev-certificate-secret"),
            GatewayPagesPort = pagesPort,
            GatewaySettings = GatewaySettings.Merge(
                GatewaySettings.HealthChecks(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3)),
                new Dictionary<string, string?>
                {
                    ["Gateway:SignIn:ClientId"] = "vigil-gateway",
                    ["Gateway:SignIn:ClientSecret"] = "dev-gateway-secret",
                }),
        });
        // The kit's warm-up calls carry test-signer tokens, which this stack refuses at the gateway: wait until calls
        // with the provider's tokens reach identity and session.
        var learner = await Provider.LearnerAsync("warmup-learner");
        var staff = await Provider.TokenAsync(new TokenSpec("warmup-staff") { StaffCourses = ["warmup-course"] });
        using var journey = NewJourney();
        await Eventually.Async(async () => await Reaches(() => journey.Identity(learner).GetLearnerAsync(new GetLearnerRequest { LearnerId = "warmup-learner" }).ResponseAsync)
            && await Reaches(() => journey.Exams(staff).GetExamAsync(new GetExamRequest { ExamId = "warmup-exam" }).ResponseAsync),
            () => "identity and session to answer through the gateway\n" + Processes.Logs(30), TimeSpan.FromSeconds(180), TimeSpan.FromMilliseconds(200));
    }

    /// <summary>A journey whose tokens the provider issues.</summary>
    public Journey NewJourney() => new(Processes) { Tokens = spec => Provider.TokenAsync(spec) };

    private static Dictionary<string, string?> Client(string id, string secret) => new()
    {
        ["Auth:ClientId"] = id,
        ["Auth:ClientSecret"] = secret,
    };

    private static async Task<bool> Reaches(Func<Task> call)
    {
        try
        {
            await call();
            return true;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.PermissionDenied or StatusCode.FailedPrecondition)
        {
            return true;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    public async Task DisposeAsync()
    {
        if (Processes is not null) await Processes.DisposeAsync();
        if (Provider is not null) await Provider.DisposeAsync();
    }
}
