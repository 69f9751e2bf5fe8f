using Vigil.Certificate.Tests.Infrastructure;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.Testing;
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
        await using var stack = await ProcessStack.StartAsync(new ProcessStackOptions
        {
            RabbitMqUri = CertificateHost.AmqpUri, Identity = false, Sessions = 0, Gateways = [],
        });
        // The certificate service's own address: it comes back there after the restart.
        using var journey = new Journey(TestChannel.Endpoint(stack.Certificate!.GrpcAddress));
        var (learner, session) = (NewId("learner"), NewId("session"));
        var token = TestTokens.Learner(learner);
        await _publisher.PublishAsync(Submitted(session, learner));
        await journey.AwaitEntryAsync(token, session, e => e.Status == ResultStatus.BeingChecked);
        await stack.Certificate.KillAsync();

        await _publisher.PublishAsync(Decision(session, learner, 1, DecisionOutcome.Valid));
        await _publisher.PublishAsync(Decision(session, learner, 2, DecisionOutcome.Refused, "REFUSAL_REASON_DOCUMENTS", "A book was used."));

        await stack.StartCertificateAsync();
        var entry = await journey.AwaitEntryAsync(token, session, e => e.Status == ResultStatus.Refused);
        Assert.Contains("A book was used.", entry.Reason, StringComparison.Ordinal);
    }
}
