using System.ComponentModel.DataAnnotations;

namespace Vigil.ServiceDefaults.Messaging;

/// <summary>RabbitMQ options, bound from the "RabbitMq" section.</summary>
public sealed class RabbitMqOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RabbitMq";

    /// <summary>The broker, e.g. "amqp://user:password@rabbitmq:5672/vhost".</summary>
    [Required]
    public string Uri { get; set; } = "amqp://guest:guest@127.0.0.1:5672/";

    /// <summary>Immediate redeliveries before a message goes to the error queue (no delayed redelivery: Debian's RabbitMQ has no delay plugin).</summary>
    [Range(0, 20)]
    public int ImmediateRetries { get; set; } = 3;

    /// <summary>
    /// Messages each consumer queue has in flight at once (RabbitMQ prefetch, and as many processed side by side).
    /// MassTransit's own default is twice the processor count, at least 16: 16 on a small container, fewer than the
    /// session relay's 32 sessions in flight, each message waiting on its Redis round trips. The consumers are
    /// idempotent and order-safe, so in-flight messages of one session may be processed concurrently.
    /// </summary>
    [Range(1, 1000)]
    public int PrefetchCount { get; set; } = 64;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // Never echo the URI: it may hold the broker's password.
        if (!System.Uri.TryCreate(Uri, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
        {
            yield return new ValidationResult("RabbitMq:Uri must be an amqp:// or amqps:// URI, e.g. amqp://user:password@rabbitmq:5672/vhost.", [nameof(Uri)]);
        }
    }
}
