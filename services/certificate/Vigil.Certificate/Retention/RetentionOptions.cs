using System.ComponentModel.DataAnnotations;

namespace Vigil.Certificate.Retention;

/// <summary>How long the certificate service keeps what it holds (docs/privacy.md), bound from the "Retention" section.</summary>
internal sealed class RetentionOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Retention";

    /// <summary>
    /// A result without a certificate (not passed, refused, not submitted, invalid) is kept this long after it last
    /// changed, then its record expires (Redis TTL set in the same step as the write).
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "7300.00:00:00")]
    public TimeSpan Results { get; set; } = TimeSpan.FromDays(365);

    /// <summary>
    /// A certificate (valid or withdrawn) stays verifiable this long after it last changed: its record and its code
    /// expire then. Whoever presents it later is told UNKNOWN.
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "36500.00:00:00")]
    public TimeSpan Certificates { get; set; } = TimeSpan.FromDays(3650);

    /// <summary>
    /// The longest an event may take to reach this service (waiting in a queue while the service is down, or in an
    /// error queue before operations move it back): a fact older than this is refused to the error queue, so erasure
    /// tombstones and applied-event sets, which must outlive every redelivery, expire after it.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "365.00:00:00")]
    public TimeSpan RedeliveryHorizon { get; set; } = TimeSpan.FromDays(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RedeliveryHorizon >= Results || RedeliveryHorizon >= Certificates)
        {
            yield return new ValidationResult(
                "Retention:RedeliveryHorizon must be shorter than Retention:Results and Retention:Certificates (a record must outlive every redelivery of its events).",
                [nameof(RedeliveryHorizon)]);
        }
    }
}
