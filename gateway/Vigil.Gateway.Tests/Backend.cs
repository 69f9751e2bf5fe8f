using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Session.V1;

namespace Vigil.Gateway.Tests;

/// <summary>
/// A real gRPC server on a loopback port (h2c) standing in for one replica of a service behind the gateway:
/// it answers VerifyCertificate with its own name (GetDashboard with nothing) and counts calls, and its /health/ready can be turned off.
/// It tests the gateway's routing, balancing and health checks; the services themselves are tested elsewhere.
/// </summary>
public sealed class Backend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Backend(WebApplication app, string name)
    {
        _app = app;
        Name = name;
    }

    public string Name { get; }

    public Uri Address { get; private set; } = null!;

    /// <summary>The HTTP/1.1 management address (its /health/ready).</summary>
    public Uri HealthAddress { get; private set; } = null!;

    public int Calls;

    public volatile bool Ready = true;

    /// <summary>The authorization header of the last call, as the backend received it.</summary>
    public string? LastAuthorization { get; set; }

    public static async Task<Backend> StartAsync(string name)
    {
        // An empty content root: the gateway's appsettings.json next to the tests must not configure this server.
        var root = Directory.CreateTempSubdirectory("vigil-backend-").FullName;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = root, EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            // The gRPC port (h2c) and, like the services, an HTTP/1.1 management port.
            k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
            k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddGrpc();
        var app = builder.Build();
        var backend = new Backend(app, name);
        app.MapGrpcService<VerificationBackend>();
        app.MapGrpcService<SessionBackend>();
        app.MapGrpcService<DashboardBackend>();
        app.MapGet("/health/ready", () => backend.Ready ? Results.Ok("Healthy") : Results.StatusCode(503));
        await app.StartAsync();
        var urls = app.Urls.Select(u => new Uri(u.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal))).ToList();
        backend.Address = urls[0];
        backend.HealthAddress = urls[1];
        // Listed once its address is known: Of() reads every listed backend's address, and one still starting (in a
        // test running in parallel) had none yet, so a call to any backend then failed with Unknown (seen in CI).
        Instances[app] = backend;
        return backend;
    }

    internal static readonly System.Collections.Concurrent.ConcurrentDictionary<WebApplication, Backend> Instances = new();

    internal static Backend Of(ServerCallContext context) =>
        Instances.Values.First(b => b.Address.Port == context.GetHttpContext().Connection.LocalPort);

    public async ValueTask DisposeAsync()
    {
        Instances.TryRemove(_app, out _);
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Answers GetDashboard with no entry and keeps the authorization header it got (what the pages' API forwarded).</summary>
internal sealed class DashboardBackend : DashboardService.DashboardServiceBase
{
    public override Task<GetDashboardResponse> GetDashboard(GetDashboardRequest request, ServerCallContext context)
    {
        var backend = Backend.Of(context);
        Interlocked.Increment(ref backend.Calls);
        backend.LastAuthorization = context.RequestHeaders.GetValue("authorization");
        return Task.FromResult(new GetDashboardResponse());
    }
}

internal sealed class VerificationBackend : CertificateVerificationService.CertificateVerificationServiceBase
{
    public override Task<VerifyCertificateResponse> VerifyCertificate(VerifyCertificateRequest request, ServerCallContext context)
    {
        var backend = Backend.Of(context);
        Interlocked.Increment(ref backend.Calls);
        backend.LastAuthorization = context.RequestHeaders.GetValue("authorization");
        return Task.FromResult(new VerifyCertificateResponse
        {
            Result = VerificationResult.Valid,
            Certificate = new Certificate { CertificateId = backend.Name, VerificationCode = request.VerificationCode },
        });
    }
}

internal sealed class SessionBackend : SessionService.SessionServiceBase
{
    public override Task<StartSessionResponse> StartSession(StartSessionRequest request, ServerCallContext context) =>
        Task.FromResult(new StartSessionResponse { ExamTitle = Backend.Of(context).Name });

    public override async Task StreamExam(IAsyncStreamReader<StreamExamRequest> requestStream, IServerStreamWriter<StreamExamResponse> responseStream, ServerCallContext context)
    {
        await foreach (var m in requestStream.ReadAllAsync(context.CancellationToken))
        {
            if (m.MessageCase == StreamExamRequest.MessageOneofCase.Save)
            {
                // Stands in for a replica whose process dies under the open stream: the connection's stream is reset.
                if (m.Save.QuestionId == "die")
                {
                    context.GetHttpContext().Abort();
                    return;
                }
                await responseStream.WriteAsync(new StreamExamResponse { SaveAck = new SaveAck { Sequence = m.Save.Sequence, QuestionId = m.Save.QuestionId } });
            }
        }
    }
}
