using RabbitMQ.Client;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.ServiceDefaults.Messaging;
using static Vigil.Certificate.Tests.Infrastructure.Events;

namespace Vigil.Certificate.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class NotYetRunningCollection
{
    public const string Name = "certificate service not yet running";
}

/// <summary>One running certificate service for the tests of this collection (collections run one after the other).</summary>
[CollectionDefinition(Name)]
public sealed class RunningServiceCollection : ICollectionFixture<RunningService>
{
    public const string Name = "running certificate service";
}

public sealed class RunningService : IAsyncLifetime
{
    public CertificateHost Host { get; } = new();

    public Task InitializeAsync() => Host.StartAsync();

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
