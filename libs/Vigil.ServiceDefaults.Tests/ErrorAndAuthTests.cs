using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.ServiceDefaults.Tests.Probe;
using Vigil.Testing;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>Stray exceptions never surface as Unknown; tokens are checked; no shared key signs them.</summary>
public sealed class ErrorAndAuthTests
{
    [Fact]
    public async Task A_bug_is_Internal_and_leaks_nothing()
    {
        await using var app = await TestHost.StartAsync();
        var client = new ProbeService.ProbeServiceClient(app.Channel(TestTokens.Learner("learner-1")));
        var ex = await RpcAssert.ThrowsAsync(StatusCode.Internal, async () => await client.FailAsync(new FailRequest { Kind = "bug" }));
        Assert.DoesNotContain("secret", ex.Status.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_store_outage_is_Unavailable()
    {
        await using var app = await TestHost.StartAsync();
        var client = new ProbeService.ProbeServiceClient(app.Channel(TestTokens.Learner("learner-1")));
        await RpcAssert.ThrowsAsync(StatusCode.Unavailable, async () => await client.FailAsync(new FailRequest { Kind = "redis" }));
    }

    [Fact]
    public async Task Invalid_argument_carries_field_violations_and_precondition_says_what_first()
    {
        await using var app = await TestHost.StartAsync();
        var client = new ProbeService.ProbeServiceClient(app.Channel(TestTokens.Learner("learner-1")));
        var bad = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await client.FailAsync(new FailRequest { Kind = "field" }));
        Assert.Equal("email", Assert.Single(RpcAssert.FieldViolations(bad)).Field);
        var pre = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition, async () => await client.FailAsync(new FailRequest { Kind = "precondition" }));
        var violation = Assert.Single(RpcAssert.PreconditionViolations(pre));
        Assert.Equal("VERIFICATION_INCOMPLETE", violation.Type);
    }

    [Fact]
    public async Task Tokens_are_validated()
    {
        await using var app = await TestHost.StartAsync();
        var ok = await new ProbeService.ProbeServiceClient(app.Channel(TestTokens.Learner("learner-1"))).WhoamiAsync(new WhoamiRequest());
        Assert.Equal("learner-1", ok.Subject);
        Assert.True(ok.Learner);

        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, async () =>
            await new ProbeService.ProbeServiceClient(app.Channel()).WhoamiAsync(new WhoamiRequest()));
        var expired = TestTokens.Custom("learner-1", ["learner"], TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow.AddHours(-2));
        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, async () =>
            await new ProbeService.ProbeServiceClient(app.Channel(expired)).WhoamiAsync(new WhoamiRequest()));
        var forged = TestTokens.Custom("learner-1", ["learner"], key: Convert.ToBase64String(new byte[40]));
        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, async () =>
            await new ProbeService.ProbeServiceClient(app.Channel(forged)).WhoamiAsync(new WhoamiRequest()));
    }

    [Fact]
    public async Task No_shared_key_signs_tokens_not_even_in_development()
    {
        // The repository's former development key (HMAC), left in a stale configuration: it means nothing any more.
        const string formerKey = "dmlnaWwtZGV2ZWxvcG1lbnQta2V5LW5vdC1hLXNlY3JldC0wMTIzNDU2Nzg5";
        await using var app = await TestHost.StartAsync(environment: "Development", settings: new()
        {
            ["Auth:DevelopmentKey"] = formerKey,
            ["Auth:ServiceToken"] = "",
        });
        var signed = TestTokens.Custom("learner-1", ["learner"], key: formerKey);
        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, async () =>
            await new ProbeService.ProbeServiceClient(app.Channel(signed)).WhoamiAsync(new WhoamiRequest()));
        // Nor does the service mint its own token for calling others: without client credentials or a token, it has none.
        var ex = await Assert.ThrowsAsync<ServiceUnavailableException>(async () =>
            await app.Services.GetRequiredService<ServiceTokenProvider>().GetTokenAsync());
        Assert.Contains("configure Auth:ClientId and Auth:ClientSecret", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x00 })]                                     // field number 0
    [InlineData(new byte[] { 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x41 })]  // a string claiming 2 GiB
    public async Task Bytes_that_are_not_a_message_are_InvalidArgument_not_Unknown(byte[] body)
    {
        await using var app = await TestHost.StartAsync();
        var raw = Marshallers.Create<byte[]>(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.Unary, "vigil.tests.v1.ProbeService", "Fail", raw, raw);
        var invoker = app.Channel(TestTokens.Learner("l1")).CreateCallInvoker();
        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await invoker.AsyncUnaryCall(method, null, new CallOptions(), body));
        Assert.Contains("FailRequest", ex.Status.Detail, StringComparison.Ordinal);
        // The service still answers a good request.
        await new ProbeService.ProbeServiceClient(app.Channel(TestTokens.Learner("l1"))).FailAsync(new FailRequest { Kind = "none" });
    }
}
