using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Identity.V1;

namespace Vigil.Identity.Emails;

/// <summary>The verdict on an address.</summary>
internal sealed record EmailCheck(EmailVerdict Verdict, EmailRefusalReason Reason, string Message, string SuggestedEmail, string CanonicalEmail)
{
    public bool Accepted => Verdict == EmailVerdict.Accepted;

    public CheckEmailResponse ToResponse() => new()
    {
        Verdict = Verdict,
        Reason = Reason,
        Message = Message,
        SuggestedEmail = SuggestedEmail,
        CanonicalEmail = CanonicalEmail,
    };
}

/// <summary>
/// Checks an address as a learner typed it: forbidden characters, Unicode look-alikes (NFKC plus a small
/// confusables map, so a fullwidth plus is a plus), dot-atom syntax (RFC 5321/5322, UTF-8 local parts per
/// RFC 6531), length limits (64 octets local, 254 in all), IDNA domains (UTS 46 via IdnMapping), aliases
/// ('+' everywhere, provider separators), and the canonical key one mailbox is compared on.
/// </summary>
internal sealed class EmailChecker
{
    private const string AsciiAtextSpecials = "!#$%&'*+-/=?^_`{|}~";
    private readonly Dictionary<string, EmailProvider> _providers;
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    public EmailChecker(IOptions<EmailOptions> options)
    {
        var providers = options.Value.Providers.Count > 0 ? options.Value.Providers : EmailOptions.DefaultProviders;
        _providers = new Dictionary<string, EmailProvider>(StringComparer.Ordinal);
        foreach (var p in providers)
        {
            foreach (var d in p.Domains) _providers[d.Trim().ToLowerInvariant()] = p;
        }
    }

    public EmailCheck Check(string? input)
    {
        if (string.IsNullOrEmpty(input) || input.All(char.IsWhiteSpace))
        {
            return Refuse(EmailRefusalReason.Empty, "Enter your email address.");
        }
        if (input.Length > 1024)
        {
            return Refuse(EmailRefusalReason.TooLong, "This address is too long: an address has at most 254 characters.");
        }
        if (FirstForbidden(input) is { } bad)
        {
            var trimmed = input.Trim();
            var suggestion = string.Empty;
            if (trimmed.Length > 0 && trimmed != input && FirstForbidden(trimmed) is null)
            {
                var retry = Check(trimmed);
                suggestion = retry.Accepted ? trimmed : retry.SuggestedEmail;
            }
            return Refuse(EmailRefusalReason.ForbiddenCharacter,
                $"The address contains {CharacterName(bad)}: type it again without it." + (suggestion.Length > 0 ? $" Use {suggestion}." : string.Empty),
                suggestion);
        }

        var normalized = Normalize(input);
        if (FirstForbidden(normalized) is not null)
        {
            return Refuse(EmailRefusalReason.ForbiddenCharacter, "The address contains a character that is not allowed in an email address.");
        }
        var at = normalized.LastIndexOf('@');
        if (at < 0)
        {
            return Refuse(EmailRefusalReason.Syntax, "An email address needs an @ between the name and the domain (for example jane@uni.fr).");
        }
        var local = normalized[..at];
        var domain = normalized[(at + 1)..];
        if (local.StartsWith('"'))
        {
            return Refuse(EmailRefusalReason.Syntax, "Quoted addresses (\"...\"@domain) are not accepted: use a plain address.");
        }
        if (local.Contains('@', StringComparison.Ordinal))
        {
            return Refuse(EmailRefusalReason.Syntax, "An email address has exactly one @.");
        }
        if (local.Length == 0)
        {
            return Refuse(EmailRefusalReason.Syntax, "The part before the @ is missing.");
        }
        if (domain.Length == 0)
        {
            return Refuse(EmailRefusalReason.Domain, "The domain after the @ is missing (for example uni.fr).");
        }
        if (local.StartsWith('.') || local.EndsWith('.') || local.Contains("..", StringComparison.Ordinal))
        {
            return Refuse(EmailRefusalReason.Syntax, "The part before the @ cannot start or end with a dot, or have two dots in a row.");
        }
        foreach (var rune in local.EnumerateRunes())
        {
            if (!IsLocalChar(rune))
            {
                return Refuse(EmailRefusalReason.Syntax, $"The character '{rune}' is not allowed before the @.");
            }
        }
        var localOctets = Encoding.UTF8.GetByteCount(local);
        if (localOctets > 64)
        {
            return Refuse(EmailRefusalReason.TooLong, $"The part before the @ is too long ({localOctets} bytes; at most 64).");
        }
        if (domain.StartsWith('['))
        {
            return Refuse(EmailRefusalReason.Domain, "Addresses at an IP address ([...]) are not accepted: use an address at a domain name.");
        }
        if (domain.EndsWith('.'))
        {
            var fixedAddress = local + "@" + domain.TrimEnd('.');
            var fixedCheck = Check(fixedAddress);
            var use = fixedCheck.Accepted ? fixedAddress : fixedCheck.SuggestedEmail;
            return Refuse(EmailRefusalReason.Domain, "The domain ends with a dot: remove it." + (use.Length > 0 ? $" Use {use}." : string.Empty), use);
        }
        string ascii;
        try
        {
            ascii = Idn.GetAscii(domain).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return Refuse(EmailRefusalReason.Domain, $"'{domain}' is not a valid domain name.");
        }
        var labels = ascii.Split('.');
        if (labels.Length < 2)
        {
            return Refuse(EmailRefusalReason.Domain, $"'{domain}' is not a complete domain: it needs a dot and an ending such as .fr or .com.");
        }
        var tld = labels[^1];
        if (tld.Length < 2 || tld.All(char.IsAsciiDigit) || (!tld.StartsWith("xn--", StringComparison.Ordinal) && !tld.All(char.IsAsciiLetter)))
        {
            return Refuse(EmailRefusalReason.Domain, $"'{domain}' does not end with a valid top-level domain such as .fr or .com.");
        }
        if (ascii.Length > 253)
        {
            return Refuse(EmailRefusalReason.TooLong, "The domain is too long (at most 253 characters).");
        }
        if (localOctets + 1 + ascii.Length > 254)
        {
            return Refuse(EmailRefusalReason.TooLong, "The address is too long (at most 254 characters in all).");
        }

        _providers.TryGetValue(ascii, out var provider);
        var separators = "+" + (provider?.Separators ?? string.Empty);
        var cut = local.IndexOfAny(separators.ToCharArray());
        if (cut >= 0)
        {
            var baseName = local[..cut];
            var tag = local[cut..];
            var suggestion = baseName.Length > 0 && !baseName.EndsWith('.') ? baseName + "@" + domain.ToLowerInvariant() : string.Empty;
            var who = local[cut] == '+' ? string.Empty : $" ({provider!.Name} uses '{local[cut]}' for aliases)";
            return Refuse(EmailRefusalReason.Alias,
                $"Addresses with an alias are not accepted: '{tag}' is an alias{who}. " +
                (suggestion.Length > 0 ? $"Use {suggestion} instead." : "Use your main address, without the alias."),
                suggestion);
        }

        var canonicalLocal = local.ToLowerInvariant();
        if (provider?.IgnoresDots == true) canonicalLocal = canonicalLocal.Replace(".", string.Empty, StringComparison.Ordinal);
        var canonicalDomain = provider is { CanonicalDomain.Length: > 0 } ? provider.CanonicalDomain : ascii;
        return new EmailCheck(EmailVerdict.Accepted, EmailRefusalReason.Unspecified, "The address is accepted.", string.Empty, canonicalLocal + "@" + canonicalDomain);
    }

    /// <summary>NFKC (fullwidth and compatibility forms) then look-alikes of '+', '-', '@' and '.' mapped to them.</summary>
    internal static string Normalize(string input)
    {
        var nfkc = input.Normalize(NormalizationForm.FormKC);
        var sb = new StringBuilder(nfkc.Length);
        foreach (var c in nfkc)
        {
            sb.Append(c switch
            {
                '\u2795' or '\u02D6' or '\u2064' or '\u16ED' or '\uFB29' => '+',
                '\u2010' or '\u2011' or '\u2012' or '\u2013' or '\u2212' or '\u2043' or '\u02D7' or '\u2796' or '\u30FC' => '-',
                '\u3002' or '\uFF61' or '\u2024' or '\u00B7' or '\u0701' or '\u0702' or '\uA60E' => '.',
                '\u0040' or '\uFF20' or '\uFE6B' => '@',
                _ => c,
            });
        }
        return sb.ToString();
    }

    /// <summary>What a learner is told they typed: a newline is a line break, a tab a tab, not "a space".</summary>
    internal static string CharacterName(char c) => c switch
    {
        ' ' => "a space",
        '\n' => "a line break (newline)",
        '\r' => "a carriage return (line break)",
        '\t' => "a tab",
        '\u00A0' or '\u202F' or '\u2007' => $"a non-breaking space (U+{(int)c:X4})",
        '\u2028' or '\u2029' or '\u0085' => $"a line or paragraph separator (U+{(int)c:X4})",
        '\u200B' or '\u2060' or '\uFEFF' => $"an invisible zero-width character (U+{(int)c:X4})",
        _ when char.IsWhiteSpace(c) => $"a space character (U+{(int)c:X4})",
        _ when char.IsControl(c) => $"a control character (U+{(int)c:X4})",
        _ => $"an invisible or unassigned character (U+{(int)c:X4})",
    };

    private static char? FirstForbidden(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c) || char.IsControl(c)) return c;
            var cat = char.GetUnicodeCategory(c);
            if (cat is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned)
            {
                return c;
            }
            if (char.IsHighSurrogate(c) && (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]))) return c;
            if (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(s[i - 1]))) return c;
        }
        return null;
    }

    private static bool IsLocalChar(Rune r)
    {
        if (r.IsAscii)
        {
            var c = (char)r.Value;
            return char.IsAsciiLetterOrDigit(c) || c == '.' || AsciiAtextSpecials.Contains(c, StringComparison.Ordinal);
        }
        // RFC 6531 allows UTF-8 in the local part; take letters, marks and digits only.
        var cat = Rune.GetUnicodeCategory(r);
        return cat is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.DecimalDigitNumber;
    }

    private static EmailCheck Refuse(EmailRefusalReason reason, string message, string suggestion = "") =>
        new(EmailVerdict.Refused, reason, message, suggestion, string.Empty);
}
