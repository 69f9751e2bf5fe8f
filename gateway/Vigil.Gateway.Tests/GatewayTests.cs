using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Health.V1;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Testing;

namespace Vigil.Gateway.Tests;

/// <summary>The gateway in front of real loopback gRPC backends: routing, balancing, health, auth, rate limits, pages.</summary>
public sealed partial class GatewayTests : IAsyncLifetime
{
    private Backend _a = null!;
    private Backend _b = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _a = await Backend.StartAsync("replica-a");
        _b = await Backend.StartAsync("replica-b");
        _gateway = new GatewayHost(GatewaySettings.Merge(
            Everywhere((_a.Address, null), (_b.Address, null)),
            new Dictionary<string, string?>
            {
                ["Gateway:SessionStartsPerWindow"] = "3",
                ["Gateway:RateLimitWindow"] = "00:10:00",
            }));
        _ = _gateway.Server;
        await _gateway.SettleAsync(_a, _b);
        // The tests count calls from here.
        _a.Calls = _b.Calls = 0;
    }

    [Fact]
    public async Task Calls_are_balanced_across_replicas()
    {
        using var channel = _gateway.Channel(null);
        var client = new CertificateVerificationService.CertificateVerificationServiceClient(channel);
        var seen = new HashSet<string>();
        for (var i = 0; i < 40; i++)
        {
            seen.Add((await client.VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = "X" })).Certificate.CertificateId);
        }
        Assert.Equal(["replica-a", "replica-b"], seen.Order().ToArray());
    }

    [Fact]
    public async Task A_replica_that_is_not_ready_gets_no_more_calls()
    {
        _b.Ready = false;
        using var channel = _gateway.Channel(null);
        var client = new CertificateVerificationService.CertificateVerificationServiceClient(channel);
        // Once the probes have seen B fail, every call goes to A: 30 in a row (chance alone: 1 in 10^9).
        await AllCallsGoToAsync(client, "replica-a");

        // Ready again: it gets calls again.
        _b.Ready = true;
        await Eventually.Async(async () => await ReplicaOfAsync(client) == "replica-b", "the replica to get calls again after it became ready");
    }

    [Fact]
    public async Task A_call_without_a_token_is_Unauthenticated_and_never_reaches_a_service()
    {
        using var channel = _gateway.Channel(null);
        var client = new SessionService.SessionServiceClient(channel);
        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, () => client.StartSessionAsync(new StartSessionRequest { ExamId = "e" }).ResponseAsync);
        using var forged = _gateway.Channel(TestTokens.Custom("x", ["learner"], key: Convert.ToBase64String(new byte[32])));
        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, () => new SessionService.SessionServiceClient(forged).StartSessionAsync(new StartSessionRequest { ExamId = "e" }).ResponseAsync);
    }

    [Fact]
    public async Task The_token_is_forwarded_to_the_service_which_checks_it_again()
    {
        var token = TestTokens.Learner("ada");
        using var channel = _gateway.Channel(token);
        await new CertificateVerificationService.CertificateVerificationServiceClient(channel).VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = "X" });
        Assert.Contains(new[] { _a.LastAuthorization, _b.LastAuthorization }, h => h == "Bearer " + token);
    }

    [Fact]
    public async Task Session_starts_are_limited_per_learner_with_ResourceExhausted()
    {
        using var ada = _gateway.Channel(TestTokens.Learner("ada-" + Guid.NewGuid().ToString("N")));
        using var bob = _gateway.Channel(TestTokens.Learner("bob-" + Guid.NewGuid().ToString("N")));
        var client = new SessionService.SessionServiceClient(ada);
        for (var i = 0; i < 3; i++) await client.StartSessionAsync(new StartSessionRequest { ExamId = "e" });
        var ex = await RpcAssert.ThrowsAsync(StatusCode.ResourceExhausted, () => client.StartSessionAsync(new StartSessionRequest { ExamId = "e" }).ResponseAsync);
        Assert.Contains("Too many requests", ex.Status.Detail, StringComparison.Ordinal);
        // Another learner still may.
        await new SessionService.SessionServiceClient(bob).StartSessionAsync(new StartSessionRequest { ExamId = "e" });
    }

    [Fact]
    public async Task An_exam_stream_goes_through_both_ways()
    {
        using var channel = _gateway.Channel(TestTokens.Learner("ada"));
        using var call = new SessionService.SessionServiceClient(channel).StreamExam();
        for (var i = 1; i <= 3; i++)
        {
            await call.RequestStream.WriteAsync(new StreamExamRequest { Save = new AnswerSave { Sequence = i, QuestionId = "q" + i } });
            Assert.True(await call.ResponseStream.MoveNext());
            Assert.Equal(i, call.ResponseStream.Current.SaveAck.Sequence);
        }
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
    }

    [Fact]
    public async Task Paths_of_other_services_are_not_proxied()
    {
        using var http = _gateway.CreateClient();
        var response = await http.PostAsync("/vigil.unknown.v1.NothingService/Call", new ByteArrayContent([]));
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, _a.Calls + _b.Calls);
    }

    [Fact]
    public async Task The_pages_are_served_and_the_dashboard_API_needs_a_token()
    {
        using var http = _gateway.CreateClient();
        var dashboard = await http.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("/assets/dashboard.js", await dashboard.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/verify")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/assets/vigil.css")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/dashboard")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/dashboard/watch")).StatusCode);

        var verify = await http.GetAsync("/api/certificates/ABC-123");
        Assert.Equal(HttpStatusCode.OK, verify.StatusCode);
        using var json = JsonDocument.Parse(await verify.Content.ReadAsStringAsync());
        Assert.Equal("VERIFICATION_RESULT_VALID", json.RootElement.GetProperty("result").GetString());
        Assert.Equal("ABC-123", json.RootElement.GetProperty("certificate").GetProperty("verificationCode").GetString());
    }

    [Fact]
    public async Task Probes_reach_HTTP1_management_ports_and_a_replica_that_is_not_ready_there_gets_no_calls()
    {
        await using var gateway = new GatewayHost(GatewaySettings.Merge(
            Everywhere((_a.Address, null), (_b.Address, null)),
            GatewaySettings.Cluster("certificate", (_a.Address, _a.HealthAddress), (_b.Address, _b.HealthAddress))));
        using var channel = gateway.Channel(null);
        var client = new CertificateVerificationService.CertificateVerificationServiceClient(channel);
        // Both healthy over HTTP/1.1: both get calls (were the probes failing, both would be unhealthy and still get calls,
        // so the next step is what tells).
        var seen = new HashSet<string>();
        for (var i = 0; i < 40 && seen.Count < 2; i++)
        {
            seen.Add((await client.VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = "X" })).Certificate.CertificateId);
        }
        Assert.Equal(2, seen.Count);
        _a.Ready = false;
        await AllCallsGoToAsync(client, "replica-b");
    }

    [Fact]
    public async Task A_service_that_cannot_be_reached_is_Unavailable_with_a_message()
    {
        var dead = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
        await using var gateway = new GatewayHost(Everywhere((dead, null)));
        using var channel = gateway.Channel(null);
        var ex = await RpcAssert.ThrowsAsync(StatusCode.Unavailable, () =>
            new CertificateVerificationService.CertificateVerificationServiceClient(channel).VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = "X" }).ResponseAsync);
        Assert.Contains("certificate service is unavailable", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replica_failing_under_an_open_stream_gives_the_client_Unavailable_not_Cancelled()
    {
        using var channel = _gateway.Channel(TestTokens.Learner("learner-1"));
        using var call = new SessionService.SessionServiceClient(channel).StreamExam();
        await call.RequestStream.WriteAsync(new StreamExamRequest { Save = new AnswerSave { Sequence = 1, QuestionId = "q1" } });
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(1, call.ResponseStream.Current.SaveAck.Sequence);
        await call.RequestStream.WriteAsync(new StreamExamRequest { Save = new AnswerSave { Sequence = 2, QuestionId = "die" } });
        var ex = await RpcAssert.ThrowsAsync(StatusCode.Unavailable, async () => await call.ResponseStream.MoveNext());
        Assert.Contains("session service is unavailable", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readiness_is_degraded_not_off_while_one_service_has_no_healthy_replica_and_its_calls_still_reach_that_replica()
    {
        await using var c = await Backend.StartAsync("certificate-only");
        await using var gateway = new GatewayHost(GatewaySettings.Merge(
            Everywhere((_a.Address, _a.HealthAddress)),
            GatewaySettings.Cluster("certificate", (c.Address, c.HealthAddress))));
        using var http = gateway.CreateClient();
        await Eventually.Async(async () => await ReadinessAsync(http) is (HttpStatusCode.OK, "Healthy", _), "Healthy with every service routable");

        c.Ready = false;
        await Eventually.Async(async () => await ReadinessAsync(http) is (HttpStatusCode.OK, "Degraded", _), "Degraded (200) while certificate has no healthy replica");
        var (_, _, routing) = await ReadinessAsync(http);
        Assert.Equal(1, routing.GetProperty("data").GetProperty("session").GetInt32());
        Assert.Equal(0, routing.GetProperty("data").GetProperty("certificate").GetInt32());
        Assert.Contains("certificate", routing.GetProperty("description").GetString(), StringComparison.Ordinal);
        // Still in rotation for the Ingress and the kubelet (gRPC health SERVING), and the gauge says which service.
        using var channel = gateway.Channel(TestTokens.Learner("ada"));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new HealthCheckRequest())).Status);
        await Eventually.Async(async () => AvailableDestinations().IsMatch(await http.GetStringAsync("/metrics")), "the gauge shows certificate at 0");
        // Exam streams still go through. Certificate calls are still tried on its one replica (HealthyOrPanic): a replica
        // judged unhealthy, e.g. a restarted one under a reconnect storm, answers for itself (its pushback, or its own
        // UNAVAILABLE when its store is down) instead of the gateway refusing everyone. This stand-in answers.
        Assert.Equal("replica-a", (await new SessionService.SessionServiceClient(channel).StartSessionAsync(new StartSessionRequest { ExamId = "e" })).ExamTitle);
        await new CertificateVerificationService.CertificateVerificationServiceClient(channel).VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = "X" }).ResponseAsync;

        c.Ready = true;
        await Eventually.Async(async () => await ReadinessAsync(http) is (HttpStatusCode.OK, "Healthy", _), "Healthy again");
    }

    [Fact]
    public async Task Readiness_is_off_only_while_no_service_can_be_routed_to_and_back_after()
    {
        await using var gateway = new GatewayHost(Everywhere((_a.Address, _a.HealthAddress)));
        using var http = gateway.CreateClient();
        await Eventually.Async(async () => await ReadinessAsync(http) is (HttpStatusCode.OK, "Healthy", _), "Healthy with every service routable");
        _a.Ready = false;
        await Eventually.Async(async () => await ReadinessAsync(http) is (HttpStatusCode.ServiceUnavailable, "Unhealthy", _), "Unhealthy (503) while no service has a healthy replica");
        var (_, _, routing) = await ReadinessAsync(http);
        Assert.Equal("no service has an available replica", routing.GetProperty("description").GetString());
        using var channel = gateway.Channel(null);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new HealthCheckRequest())).Status);
        // Liveness never depends on the backends.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        _a.Ready = true;
        await Eventually.Async(async () => await ReadinessAsync(http) is (HttpStatusCode.OK, "Healthy", _), "Healthy again");
    }

    /// <summary>/health/ready: its HTTP status, the overall status and the "routing" check's entry.</summary>
    private static async Task<(HttpStatusCode Code, string? Status, JsonElement Routing)> ReadinessAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/health/ready");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.GetProperty("status").GetString(), json.RootElement.GetProperty("checks").GetProperty("routing").Clone());
    }

    [GeneratedRegex("""vigil_gateway_available_destinations\{[^}]*cluster="certificate"[^}]*\} 0\b""")]
    private static partial Regex AvailableDestinations();


    /// <summary>The same replicas for every cluster.</summary>
    internal static Dictionary<string, string?> Everywhere(params (Uri Grpc, Uri? Health)[] replicas) =>
        GatewaySettings.Merge([.. GatewaySettings.Clusters.Select(c => GatewaySettings.Cluster(c, replicas))]);

    private static async Task<string> ReplicaOfAsync(CertificateVerificationService.CertificateVerificationServiceClient client) =>
        (await client.VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = "X" })).Certificate.CertificateId;

    /// <summary>Waits until 30 calls in a row go to <paramref name="replica"/> (chance alone, with two replicas: 1 in 10^9).</summary>
    private static Task AllCallsGoToAsync(CertificateVerificationService.CertificateVerificationServiceClient client, string replica) =>
        Eventually.Async(async () =>
        {
            for (var inARow = 0; inARow < 30; inARow++)
            {
                if (await ReplicaOfAsync(client) != replica) return false;
            }
            return true;
        }, $"30 calls in a row to {replica}", interval: TimeSpan.FromMilliseconds(100));

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }
}
