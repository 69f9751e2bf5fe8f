using System.ComponentModel.DataAnnotations;

namespace Vigil.Identity.Emails;

/// <summary>Email rules, bound from the "Emails" section.</summary>
internal sealed class EmailOptions : IValidatableObject
{
    public const string Section = "Emails";

    /// <summary>
    /// Providers with their own alias rules. '+' is a sub-address separator for every domain; a provider adds
    /// its own separators (Yahoo's disposable "name-keyword") and whether it ignores dots (Gmail) — dots are
    /// then dropped from the canonical key, never refused (nobody can tell which dotted form is the "real" one).
    /// When the section lists no provider, <see cref="DefaultProviders"/> apply.
    /// </summary>
    public List<EmailProvider> Providers { get; set; } = [];

    public static List<EmailProvider> DefaultProviders =>
    [
        new() { Name = "Gmail", Domains = ["gmail.com", "googlemail.com"], IgnoresDots = true, CanonicalDomain = "gmail.com" },
        new() { Name = "Yahoo", Domains = ["yahoo.com", "yahoo.fr", "yahoo.co.uk", "ymail.com", "rocketmail.com"], Separators = "-" },
        new() { Name = "Outlook", Domains = ["outlook.com", "hotmail.com", "hotmail.fr", "live.com", "live.fr", "msn.com"] },
        new() { Name = "Proton", Domains = ["proton.me", "protonmail.com", "protonmail.ch", "pm.me"] },
        new() { Name = "iCloud", Domains = ["icloud.com", "me.com", "mac.com"] },
        new() { Name = "Fastmail", Domains = ["fastmail.com", "fastmail.fm"] },
    ];

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < Providers.Count; i++)
        {
            var provider = Providers[i];
            if (string.IsNullOrWhiteSpace(provider.Name))
            {
                yield return new ValidationResult($"Emails:Providers:{i} needs a Name.", [nameof(Providers)]);
            }
            if (provider.Domains.Count == 0 || provider.Domains.Any(string.IsNullOrWhiteSpace))
            {
                yield return new ValidationResult($"Emails:Providers:{i} needs Domains, none blank.", [nameof(Providers)]);
            }
            if (provider.Separators.Contains('@', StringComparison.Ordinal))
            {
                yield return new ValidationResult($"Emails:Providers:{i}:Separators cannot hold '@'.", [nameof(Providers)]);
            }
        }
    }
}

/// <summary>One provider's alias rules.</summary>
internal sealed class EmailProvider
{
    public string Name { get; set; } = string.Empty;

    /// <summary>Its domains, ASCII (punycode) lower case.</summary>
    public List<string> Domains { get; set; } = [];

    /// <summary>Separators besides '+' that start a sub-address (e.g. "-").</summary>
    public string Separators { get; set; } = string.Empty;

    /// <summary>Whether dots in the local part are ignored by the provider (removed from the canonical key).</summary>
    public bool IgnoresDots { get; set; }

    /// <summary>The domain the canonical key uses for all its domains (googlemail.com → gmail.com), empty to keep the domain.</summary>
    public string CanonicalDomain { get; set; } = string.Empty;
}
