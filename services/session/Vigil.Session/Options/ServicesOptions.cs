using System.ComponentModel.DataAnnotations;

namespace Vigil.Session.Options;

/// <summary>Where the services this one calls are, bound from the "Services" section.</summary>
internal sealed class ServicesOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Services";

    /// <summary>The identity service's gRPC address (a Kubernetes Service or a load balancer in front of its replicas).</summary>
    [Required]
    public string Identity { get; set; } = "http://127.0.0.1:5101";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(Identity, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            yield return new ValidationResult("Services:Identity must be an absolute http:// or https:// address such as http://identity:5101.", [nameof(Identity)]);
        }
    }
}
