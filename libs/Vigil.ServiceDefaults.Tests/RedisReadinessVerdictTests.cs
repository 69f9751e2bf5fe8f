using Microsoft.Extensions.Diagnostics.HealthChecks;
using Vigil.ServiceDefaults.Health;
using Vigil.ServiceDefaults.Redis;

namespace Vigil.ServiceDefaults.Tests;

/// <summary>
/// The Redis readiness verdict (<c>RedisHealthCheck.Judge</c>) as a rule table: acknowledged writes, errors from
/// Redis, a budget that ran out on time (Redis hung) and one that ran out late (this process starved of CPU).
/// </summary>
public sealed class RedisReadinessVerdictTests
{
    private static readonly TimeSpan Budget = HealthBudget.PerCheck;
    private static readonly RedisHealthCheck.Failure NotTaken = new("Redis did not take a write", null, Written: false, TimedOut: true);
    private static readonly RedisHealthCheck.Failure NotConfirmed = new("replicas did not confirm", null, Written: true, TimedOut: true);
    private static readonly RedisHealthCheck.Failure Refused = new("Redis cannot take a write: connection refused", null, Written: false);

    /// <summary>Each key's write: "ok" acknowledged, "hung" not taken in the budget, "unconfirmed" taken but not confirmed by replicas in it, "refused" an error from Redis.</summary>
    public static TheoryData<string, string, double, HealthStatus> Cases => new()
    {
        { "every write acknowledged", "ok", 12, HealthStatus.Healthy },
        { "every write acknowledged, slowly", "ok,ok", 1900, HealthStatus.Healthy },
        { "Redis hung: the budget ran out on time", "hung", Budget.TotalMilliseconds + 40, HealthStatus.Unhealthy },
        { "Redis hung on every primary, on time", "hung,hung", Budget.TotalMilliseconds + 400, HealthStatus.Unhealthy },
        { "starved: the budget ran out 1.6 s late", "hung", Budget.TotalMilliseconds + 1600, HealthStatus.Degraded },
        { "starved, replicas unconfirmed", "unconfirmed", Budget.TotalMilliseconds + 900, HealthStatus.Degraded },
        { "Redis refused, however late", "refused", Budget.TotalMilliseconds + 3000, HealthStatus.Unhealthy },
        { "one refused, one timed out late: an error is not starvation", "refused,hung", Budget.TotalMilliseconds + 3000, HealthStatus.Unhealthy },
        { "replicas did not confirm, on time", "unconfirmed", Budget.TotalMilliseconds + 10, HealthStatus.Degraded },
        { "one primary of two did not take it, on time", "ok,hung", Budget.TotalMilliseconds + 10, HealthStatus.Degraded },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Verdict(string what, string writes, double tookMs, HealthStatus expected)
    {
        var failures = writes.Split(',').Select(w => w switch
        {
            "ok" => null,
            "hung" => NotTaken,
            "unconfirmed" => NotConfirmed,
            "refused" => Refused,
            _ => throw new ArgumentOutOfRangeException(nameof(writes), w, "ok, hung, unconfirmed or refused"),
        }).ToArray();
        var result = RedisHealthCheck.Judge(failures.Length, failures, TimeSpan.FromMilliseconds(tookMs));
        Assert.True(expected == result.Status, $"{what}: {result.Status} ({result.Description}), expected {expected}");
    }

    [Fact]
    public void A_starved_check_says_so_and_names_how_late_it_ran()
    {
        var result = RedisHealthCheck.Judge(1, [NotTaken], Budget + RedisHealthCheck.StarvationMargin + TimeSpan.FromMilliseconds(300));
        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("starved", result.Description, StringComparison.Ordinal);
        Assert.Contains(((Budget + RedisHealthCheck.StarvationMargin + TimeSpan.FromMilliseconds(300)).TotalMilliseconds).ToString("0", System.Globalization.CultureInfo.InvariantCulture), result.Description, StringComparison.Ordinal);
    }
}
