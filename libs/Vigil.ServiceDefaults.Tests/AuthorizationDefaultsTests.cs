using Grpc.Core;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Tests.Probe;
using Vigil.Testing;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>Authorization by default: an endpoint that says nothing about authorization still needs a token.</summary>
public sealed class AuthorizationDefaultsTests
{
    [Fact]
    public async Task An_RPC_without_Authorize_that_never_reads_the_caller_refuses_an_anonymous_caller_with_a_gRPC_status()
    {
        await using var app = await TestHost.StartAsync();
        // ProbeService.Fail has no [Authorize] and does not look at the caller: only the fallback policy refuses it.
        var ex = await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, async () =>
            await new ProbeService.ProbeServiceClient(app.Channel()).FailAsync(new FailRequest { Kind = "none" }));
        // Written by the challenge as a gRPC status, not grpc-dotnet's reading of a bare HTTP 401.
        Assert.Equal(AuthorizationDefaults.TokenRequired, ex.Status.Detail);
        await new ProbeService.ProbeServiceClient(app.Channel(TestTokens.Learner("learner-1"))).FailAsync(new FailRequest { Kind = "none" });
    }

    [Fact]
    public async Task Only_health_metrics_and_reflection_are_open()
    {
        await using var app = await TestHost.StartAsync();
        var open = await OpenEndpoints.ListAsync(app.Services);
        Assert.True(OpenEndpoints.ServiceDefaults.SetEquals(open), "Open endpoints: " + string.Join(", ", open));
    }
}
