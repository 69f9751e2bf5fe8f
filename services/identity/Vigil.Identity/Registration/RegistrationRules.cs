using Vigil.ServiceDefaults.Errors;

namespace Vigil.Identity.Registration;

/// <summary>The registration's rules that are not about the address itself (that is <c>EmailChecker</c>). Pure.</summary>
internal static class RegistrationRules
{
    /// <summary>The most characters a display name may have.</summary>
    public const int MaxDisplayNameLength = 200;

    /// <summary>
    /// The name to record: the one sent (trimmed), else the token's; InvalidArgument when it is too long or
    /// holds a control character.
    /// </summary>
    public static string DisplayName(string? requested, string? fromToken)
    {
        var name = (requested ?? string.Empty).Trim();
        if (name.Length == 0) name = fromToken ?? string.Empty;
        if (name.Length > MaxDisplayNameLength || name.Any(char.IsControl))
        {
            throw new InvalidRequestException("display_name", $"The name must be at most {MaxDisplayNameLength} characters, without control characters.");
        }
        return name;
    }

    /// <summary>
    /// Whether another learner's claim on a mailbox may be taken over: its holder does not hold the address
    /// (a registration that crashed half-way, an interrupted erasure) and the claim is older than the grace.
    /// </summary>
    public static bool ClaimIsStale(string canonical, string? holdersAddress, DateTimeOffset claimedAt, DateTimeOffset now, TimeSpan grace) =>
        holdersAddress != canonical && now - claimedAt > grace;
}
