using Google.Rpc;
using Grpc.Core;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Errors;
using Vigil.ServiceDefaults.Redis;
using Vigil.ServiceDefaults.Tests.Probe;
using Vigil.Testing;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>
/// A store failure reads as UNAVAILABLE with a retry hint wherever it comes from (a lost connection, a cluster
/// between a primary's death and its replica's promotion, a write that reached a replica, a slot being migrated, a
/// write its replicas did not confirm), never INTERNAL; a Redis error that is a bug of ours stays INTERNAL.
/// </summary>
public sealed class StoreFailureTests
{
    [Theory]
    [InlineData("redis")]
    [InlineData("clusterdown")]
    [InlineData("readonly")]
    [InlineData("tryagain")]
    [InlineData("not-acknowledged")]
    public async Task A_store_failure_is_Unavailable_with_a_retry_hint(string kind)
    {
        await using var app = await TestHost.StartAsync();
        var client = new ProbeService.ProbeServiceClient(app.Channel(TestTokens.Learner("learner-1")));
        var ex = await RpcAssert.ThrowsAsync(StatusCode.Unavailable, async () => await client.FailAsync(new FailRequest { Kind = kind }));
        var retry = ex.GetRpcStatus()?.GetDetail<RetryInfo>();
        Assert.NotNull(retry);
        Assert.Equal(GrpcErrors.DefaultRetryDelay, retry.RetryDelay.ToTimeSpan());
        Assert.Contains("Retry", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redis_error_that_is_our_bug_stays_Internal()
    {
        await using var app = await TestHost.StartAsync();
        var client = new ProbeService.ProbeServiceClient(app.Channel(TestTokens.Learner("learner-1")));
        await RpcAssert.ThrowsAsync(StatusCode.Internal, async () => await client.FailAsync(new FailRequest { Kind = "redis-bug" }));
    }

    [Theory]
    [InlineData("CLUSTERDOWN The cluster is down", "CLUSTERDOWN")]
    [InlineData("CLUSTERDOWN Hash slot not served", "CLUSTERDOWN")]
    [InlineData("READONLY You can't write against a read only replica.", "READONLY")]
    [InlineData("TRYAGAIN Multiple keys request during rehashing of slot", "TRYAGAIN")]
    [InlineData("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", "MASTERDOWN")]
    [InlineData("LOADING Redis is loading the dataset in memory", "LOADING")]
    [InlineData("NOREPLICAS Not enough good replicas to write.", "NOREPLICAS")]
    [InlineData("OOM command not allowed when used memory > 'maxmemory'.", "OOM")]
    [InlineData("ERR unknown command 'WAITAOF'", null)]
    [InlineData("WRONGTYPE Operation against a key holding the wrong kind of value", null)]
    [InlineData("OOMPH not a code", null)]
    [InlineData("NOSCRIPT No matching script.", null)]
    public void Refusals_due_to_the_stores_state_are_told_apart_from_bugs(string reply, string? state)
    {
#pragma warning disable CS0618 // the message is what matters: it is the server's error line, as StackExchange.Redis passes it on
        var ex = new RedisServerException(reply);
#pragma warning restore CS0618
        Assert.Equal(state, RedisFailure.StoreState(ex));
        Assert.Equal(state is not null, RedisFailure.IsUnavailable(ex));
        Assert.Equal(state == "TRYAGAIN", RedisFailure.IsMigrating(ex));
        Assert.Equal(state is "CLUSTERDOWN" or "READONLY" or "MASTERDOWN", RedisFailure.SuggestsFailover(ex));
    }
}
