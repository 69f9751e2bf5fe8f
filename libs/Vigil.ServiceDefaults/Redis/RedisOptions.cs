using System.ComponentModel.DataAnnotations;
using StackExchange.Redis;
using Vigil.ServiceDefaults.Storage;

namespace Vigil.ServiceDefaults.Redis;

/// <summary>Redis connection options, bound from the "Redis" section.</summary>
public sealed class RedisOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Redis";

    /// <summary>
    /// A StackExchange.Redis configuration string: one server ("127.0.0.1:6379", "redis:6379,password=…"), the nodes of
    /// a Redis Cluster ("node-a:6379,node-b:6379,…": the rest is discovered), or Sentinel
    /// ("sentinel-a:26379,sentinel-b:26379,serviceName=vigil": the multiplexer follows the primary Sentinel names).
    /// </summary>
    [Required]
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>
    /// The prefix of every key and channel of the service (<see cref="RedisKeyspace"/>); each service has its own
    /// default (<c>vigil:identity:</c>, <c>vigil:session:</c>, <c>vigil:certificate:</c>), tests their own.
    /// </summary>
    public string KeyPrefix { get; set; } = string.Empty;

    /// <summary>
    /// How many replicas must confirm a write before Vigil acknowledges it (<c>WAIT</c>, see <see cref="RedisWrites"/>).
    /// 0 (the default) for one standalone server: the primary's reply, on disk, is the acknowledgement. Set it to 1
    /// (or more) wherever Redis has replicas, so that a failover cannot lose an acknowledged write.
    /// </summary>
    [Range(0, 16)]
    public int AcknowledgeReplicas { get; set; }

    /// <summary>
    /// How long a write waits for <see cref="AcknowledgeReplicas"/> replicas (10 ms to 30 s; 1 s by default). Past it
    /// the write is refused as not acknowledged (the client gets UNAVAILABLE and retries), never acknowledged.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:30")]
    public TimeSpan AcknowledgeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>What <see cref="KeyPrefix"/> may be.</summary>
    public const string KeyPrefixRule =
        "Redis:KeyPrefix is 1-64 characters among letters, digits, ':', '-', '_' and '.' (no braces: a brace would pick the hash tag of every key).";

    /// <summary>Whether a key prefix follows <see cref="KeyPrefixRule"/>.</summary>
    public static bool IsValidKeyPrefix(string? prefix) =>
        prefix is { Length: > 0 and <= 64 } && prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '-' or '_' or '.');

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        string? problem = null;
        try
        {
            if (ConfigurationOptions.Parse(Configuration).EndPoints.Count == 0) problem = "Redis:Configuration names no endpoint: give host:port, e.g. \"redis:6379\".";
        }
        catch (ArgumentException)
        {
            // Never echo the string: it may hold the password.
            problem = "Redis:Configuration is not a StackExchange.Redis configuration string, e.g. \"redis:6379,password=…\".";
        }
        if (problem is not null) yield return new ValidationResult(problem, [nameof(Configuration)]);
        if (!IsValidKeyPrefix(KeyPrefix)) yield return new ValidationResult(KeyPrefixRule, [nameof(KeyPrefix)]);
    }
}
