using System.Text;
using RabbitMQ.Client;
using Vigil.Certificate.Tests.Infrastructure;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Messaging;
using static Vigil.Certificate.Tests.Infrastructure.Events;

namespace Vigil.Certificate.Tests.Messaging;

/// <summary>The service as a real process: killed (SIGKILL), events published meanwhile, restarted.</summary>
[Collection(NotYetRunningCollection.Name)]
public sealed class ServiceProcessTests : IAsyncLifetime
{
    private readonly CertificateHost _publisher = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _publisher.DisposeAsync();

    [Fact]
    public async Task Events_published_while_the_process_is_killed_are_applied_after_its_restart()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = Vigil.Testing.TestEnvironment.Redis,
            ["RabbitMq:Uri"] = CertificateHost.AmqpUri,
        };
        var (learner, session) = (NewId("learner"), NewId("session"));
        await using (var first = await Vigil.Testing.ServiceProcess.StartAsync("services/certificate/Vigil.Certificate", settings))
        {
            await first.WaitReadyAsync(TimeSpan.FromSeconds(30));
            await _publisher.PublishAsync(Submitted(session, learner));
            await WaitStatusAsync(first, learner, session, ResultStatus.BeingChecked);
            await first.KillAsync();
        }

        await _publisher.PublishAsync(Decision(session, learner, 1, DecisionOutcome.Valid));
        await _publisher.PublishAsync(Decision(session, learner, 2, DecisionOutcome.Refused, "REFUSAL_REASON_DOCUMENTS", "A book was used."));

        await using var second = await Vigil.Testing.ServiceProcess.StartAsync("services/certificate/Vigil.Certificate", settings);
        var entry = await WaitStatusAsync(second, learner, session, ResultStatus.Refused);
        Assert.Contains("A book was used.", entry.Reason, StringComparison.Ordinal);
    }

    private static async Task<DashboardEntry> WaitStatusAsync(Vigil.Testing.ServiceProcess process, string learner, string session, ResultStatus status)
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(process.GrpcAddress);
        var client = new DashboardService.DashboardServiceClient(channel);
        var headers = new Grpc.Core.Metadata { { "authorization", "Bearer " + Vigil.Testing.TestTokens.Learner(learner) } };
        DashboardEntry? last = null;
        await Eventually.Async(async () =>
        {
            var dashboard = await client.GetDashboardAsync(new GetDashboardRequest(), headers);
            last = dashboard.Entries.FirstOrDefault(e => e.SessionId == session);
            return last?.Status == status;
        }, () => $"{status} for {session}; last seen {last}");
        return last!;
    }
}
