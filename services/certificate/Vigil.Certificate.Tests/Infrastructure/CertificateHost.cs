using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using StackExchange.Redis;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Vigil.Certificate.Tests.Infrastructure;

/// <summary>
/// The certificate service in process against the real Redis and RabbitMQ (vhost "certificate"), a
/// MassTransit bus of the test's own that publishes real events, and a record of what the service consumed.
/// </summary>
public sealed class CertificateHost : IAsyncDisposable
{
    public const string VirtualHost = "certificate";

    private readonly ConsumedMessages _consumed = new();
    private EventPublisher? _publisher;
    private bool _started;

    public CertificateHost()
    {
        Factory = new CertificateFactory();
    }

    public VigilServiceFactory<CertificateApp> Factory { get; }

    public static string AmqpUri => TestEnvironment.RabbitMq(VirtualHost);

    /// <summary>Starts the service (host, bus, consumers) and waits until its bus is up.</summary>
    public async Task StartAsync()
    {
        if (_started) return;
        _started = true;
        var bus = Factory.Services.GetRequiredService<IBus>();
        bus.ConnectConsumeObserver(_consumed);
        // Ready = Redis reachable and MassTransit's bus (its receive endpoints) started.
        using var http = Factory.CreateClient();
        try
        {
            await Eventually.Async(async () =>
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
                return response.IsSuccessStatusCode;
            }, "the certificate service to get ready");
        }
        catch (TimeoutException ex)
        {
            var report = await Factory.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>().CheckHealthAsync();
            throw new TimeoutException(ex.Message + " " + string.Join("; ", report.Entries.Select(e => $"{e.Key}={e.Value.Status} {e.Value.Description} {e.Value.Exception?.Message}")), ex);
        }
    }

    public IDatabase Redis => Factory.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();

    /// <summary>The service's own key layout (tests never spell a key).</summary>
    internal Vigil.Certificate.Store.CertificateKeys Keys => Factory.Services.GetRequiredService<Vigil.Certificate.Store.CertificateKeys>();

    /// <summary>The service's store, to read what it keeps.</summary>
    internal Vigil.Certificate.Store.CertificateStore Store => Factory.Services.GetRequiredService<Vigil.Certificate.Store.CertificateStore>();

    /// <summary>Publishes a real event through RabbitMQ, as the session service does.</summary>
    public async Task PublishAsync<T>(T message)
        where T : class
    {
        _publisher ??= await EventPublisher.StartAsync(AmqpUri);
        await _publisher.PublishAsync(message);
    }

    /// <summary>How many times the service finished consuming a message with this event id.</summary>
    public int ConsumedCount(Guid eventId) => _consumed.Count(eventId);

    public async Task WaitConsumedAsync(Guid eventId, int times = 1)
    {
        await Eventually.Async(() => Task.FromResult(ConsumedCount(eventId) >= times), $"event {eventId} consumed {times} time(s)");
    }

    public DashboardService.DashboardServiceClient Dashboard(string token) => new(Factory.Channel(token));

    public CertificateVerificationService.CertificateVerificationServiceClient Verification(string? token = null) => new(Factory.Channel(token));

    /// <summary>Polls the learner's dashboard until the session's entry satisfies <paramref name="until"/>.</summary>
    public async Task<DashboardEntry> WaitEntryAsync(string learnerId, string sessionId, Func<DashboardEntry, bool> until)
    {
        var client = Dashboard(TestTokens.Learner(learnerId));
        DashboardEntry? last = null;
        await Eventually.Async(async () =>
        {
            var dashboard = await client.GetDashboardAsync(new GetDashboardRequest());
            last = dashboard.Entries.FirstOrDefault(e => e.SessionId == sessionId);
            return last is not null && until(last);
        }, () => $"entry of {sessionId} to match; last seen: {last}");
        return last!;
    }

    public static async Task<IConnection> ConnectAsync() =>
        await new ConnectionFactory { Uri = new Uri(AmqpUri) }.CreateConnectionAsync();

    public async ValueTask DisposeAsync()
    {
        if (_publisher is not null) await _publisher.DisposeAsync();
        await Factory.DisposeAsync();
    }

    /// <summary>The factory, with the test signing key, the suite's broker and one immediate retry.</summary>
    private sealed class CertificateFactory : VigilServiceFactory<CertificateApp>
    {
        private static readonly Dictionary<string, string?> Settings = new()
        {
            ["Certificates:ActiveKeyId"] = TestKeys.SharedKeyId,
            ["Certificates:SigningKeys:0:KeyId"] = TestKeys.SharedKeyId,
            ["Certificates:SigningKeys:0:PrivateKeyPem"] = TestKeys.SharedPem,
            ["RabbitMq:Uri"] = AmqpUri,
            ["RabbitMq:ImmediateRetries"] = "1",
        };

        public CertificateFactory()
            : base(VirtualHost, Settings)
        {
        }
    }

    private sealed class ConsumedMessages : IConsumeObserver
    {
        private readonly ConcurrentDictionary<Guid, int> _counts = new();

        public int Count(Guid id) => _counts.TryGetValue(id, out var n) ? n : 0;

        public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task PostConsume<T>(ConsumeContext<T> context) where T : class
        {
            Guid? id = context.Message switch
            {
                SessionSubmitted m => m.EventId,
                SessionExpired m => m.EventId,
                BoardDecisionRecorded m => m.EventId,
                LearnerErasureRequested m => m.EventId,
                _ => null,
            };
            if (id is { } g) _counts.AddOrUpdate(g, 1, (_, n) => n + 1);
            return Task.CompletedTask;
        }

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }
}
