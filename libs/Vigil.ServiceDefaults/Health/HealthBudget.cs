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

    /// <summary>
    /// The health-check framework's own timeout around a check that keeps <see cref="PerCheck"/> itself and judges
    /// how late it ran (Redis's): above it, so that the check's verdict is the one reported (the framework's timeout
    /// reports any check cut off as Unhealthy, whatever the reason), and below a probe's 3 s timeout.
    /// </summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(2);
}
