namespace Vigil.Testing;

/// <summary>
/// The real Redis and RabbitMQ that scripts/deps.sh starts for the tests (scripts/test.sh does it).
/// Tests never fake them.
/// </summary>
public static class TestEnvironment
{
    /// <summary>Redis, "host:port".</summary>
    public static string Redis => Require("VIGIL_REDIS");

    /// <summary>RabbitMQ's AMQP URI for a virtual host made by scripts/deps.sh (identity, session, certificate, gateway, e2e, signin, faults, failover, bench, pods).</summary>
    public static string RabbitMq(string virtualHost)
    {
        var uri = new UriBuilder(Require("VIGIL_RABBITMQ")) { Path = "/" + Uri.EscapeDataString(virtualHost) };
        return uri.Uri.ToString();
    }

    /// <summary>The folder of Redis's data and append-only file (fault tests restart Redis from it).</summary>
    public static string RedisDirectory => Require("VIGIL_REDIS_DIR");

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{name} is not set: run the tests with scripts/test.sh, which starts a real Redis and RabbitMQ " +
                "(or `source scripts/deps.sh && vigil_deps_start` in your shell first).");
}
