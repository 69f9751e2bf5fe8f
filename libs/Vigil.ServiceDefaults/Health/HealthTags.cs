namespace Vigil.ServiceDefaults.Health;

/// <summary>Tags that sort health checks into liveness and readiness.</summary>
public static class HealthTags
{
    /// <summary>Readiness: Redis, RabbitMQ, draining. A failing check takes the instance out of rotation.</summary>
    public const string Ready = "ready";

    /// <summary>Liveness: the process itself only; never Redis or RabbitMQ.</summary>
    public const string Live = "live";
}
