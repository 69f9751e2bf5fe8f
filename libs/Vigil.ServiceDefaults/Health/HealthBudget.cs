namespace Vigil.ServiceDefaults.Health;

/// <summary>How long one health check may take.</summary>
public static class HealthBudget
{
    /// <summary>
    /// Each readiness check gives up after this and reports Unhealthy, so that /health/ready and the gRPC
    /// health service answer within a probe's timeout (1 s) even while Redis hangs (a stopped process, a
    /// black-holed connection): without it a PING waits for the client's 5 s timeout.
    /// </summary>
    public static readonly TimeSpan PerCheck = TimeSpan.FromMilliseconds(700);
}
