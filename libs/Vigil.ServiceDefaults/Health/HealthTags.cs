namespace Vigil.ServiceDefaults.Health;

/// <summary>Tags that sort health checks into liveness and readiness.</summary>
public static class HealthTags
{
    /// <summary>
    /// Readiness: Redis and draining; a failing check takes the instance out of rotation. RabbitMQ is reported
    /// too, as Degraded only: no call waits for the broker (events wait in the session's outbox, consumers
    /// resume when it is back), so a broker outage must not take every replica out of rotation.
    /// </summary>
    public const string Ready = "ready";

    /// <summary>Liveness: the process itself only; never Redis or RabbitMQ.</summary>
    public const string Live = "live";
}
