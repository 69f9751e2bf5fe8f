namespace Vigil.Certificate.Tests.Integration;

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
