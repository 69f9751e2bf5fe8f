using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vigil.Contracts.Auth;

namespace Vigil.ServiceDefaults.Auth;

/// <summary>
/// Which claims of the provider's tokens give Vigil's roles (<see cref="VigilRoles"/>) and courses
/// (<see cref="VigilClaims.BoardCourse"/>, <see cref="VigilClaims.StaffCourse"/>). A provider that emits Vigil's
/// own claim names needs nothing; any other is described by <see cref="Rules"/> (docs/operations.md has the rules
/// for Keycloak and Open edX).
/// </summary>
public sealed class ClaimMappingOptions
{
    /// <summary>Whether the token's own <c>role</c>, <c>board_course</c> and <c>staff_course</c> claims count (turn off when the provider uses those names for something else).</summary>
    public bool UseVigilClaims { get; set; } = true;

    /// <summary>Rules applied in order; each value of the named claim that matches gives one Vigil claim.</summary>
    public List<ClaimRule> Rules { get; set; } = [];

    internal IEnumerable<ValidationResult> Validate(string prefix)
    {
        for (var i = 0; i < Rules.Count; i++)
        {
            var rule = Rules[i];
            var key = $"{prefix}:Rules:{i}";
            if (string.IsNullOrWhiteSpace(rule.From)) yield return new ValidationResult($"{key}:From is required (the claim to read, e.g. groups or realm_access.roles).");
            if (rule.To is not (VigilClaims.Role or VigilClaims.BoardCourse or VigilClaims.StaffCourse))
            {
                yield return new ValidationResult($"{key}:To must be {VigilClaims.Role}, {VigilClaims.BoardCourse} or {VigilClaims.StaffCourse}.");
            }
            string? error = null;
            try { _ = new Regex(rule.Match, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50)); }
            catch (ArgumentException ex) { error = ex.Message; }
            if (error is not null) yield return new ValidationResult($"{key}:Match is not a regular expression: {error}");
            if (rule.To == VigilClaims.Role && rule.Value is not (VigilRoles.Learner or VigilRoles.Ops or VigilRoles.Service))
            {
                yield return new ValidationResult($"{key}:Value must be a Vigil role ({VigilRoles.Learner}, {VigilRoles.Ops}, {VigilRoles.Service}) when To is {VigilClaims.Role}.");
            }
        }
    }
}

/// <summary>One mapping: values of claim <see cref="From"/> matching <see cref="Match"/> give claim <see cref="To"/> with value <see cref="Value"/>.</summary>
public sealed class ClaimRule
{
    /// <summary>The claim to read; a dotted path reads inside a JSON claim (Keycloak's <c>realm_access.roles</c>, <c>resource_access.vigil.roles</c>).</summary>
    public string From { get; set; } = "";

    /// <summary>A regular expression each value must match, whole (anchored); groups may be named and used in <see cref="Value"/>.</summary>
    public string Match { get; set; } = ".+";

    /// <summary><c>role</c>, <c>board_course</c> or <c>staff_course</c>.</summary>
    public string To { get; set; } = "";

    /// <summary>The value given: a role name, or a substitution of the match (<c>$1</c>, <c>${course}</c>; default <c>$0</c>, the whole value).</summary>
    public string Value { get; set; } = "$0";
}

/// <summary>Applies <see cref="ClaimMappingOptions"/> to a validated token's identity. Pure.</summary>
public static class ClaimMapper
{
    private static readonly string[] VigilNames = [VigilClaims.Role, VigilClaims.BoardCourse, VigilClaims.StaffCourse];

    /// <summary>Adds the mapped claims to <paramref name="identity"/> (and drops Vigil-named claims the provider sent when they do not count).</summary>
    public static void Apply(ClaimsIdentity identity, ClaimMappingOptions options)
    {
        if (!options.UseVigilClaims)
        {
            foreach (var claim in identity.Claims.Where(c => VigilNames.Contains(c.Type)).ToList()) identity.RemoveClaim(claim);
        }
        var added = new List<Claim>();
        foreach (var rule in options.Rules)
        {
            var regex = new Regex("^(?:" + rule.Match + ")$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
            foreach (var value in Values(identity, rule.From))
            {
                var match = regex.Match(value);
                if (!match.Success) continue;
                var mapped = rule.To == VigilClaims.Role ? rule.Value : match.Result(rule.Value);
                if (mapped.Length > 0 && !identity.HasClaim(rule.To, mapped) && !added.Any(c => c.Type == rule.To && c.Value == mapped))
                {
                    added.Add(new Claim(rule.To, mapped));
                }
            }
        }
        identity.AddClaims(added);
    }

    /// <summary>The string values of a claim, or of a dotted path inside a JSON claim.</summary>
    internal static IEnumerable<string> Values(ClaimsIdentity identity, string from)
    {
        var direct = identity.FindAll(from).ToList();
        if (direct.Count > 0)
        {
            foreach (var c in direct)
            {
                foreach (var v in FromJsonOrString(c.Value, [])) yield return v;
            }
            yield break;
        }
        var parts = from.Split('.');
        for (var split = parts.Length - 1; split >= 1; split--)
        {
            var head = string.Join('.', parts[..split]);
            var found = identity.FindAll(head).ToList();
            if (found.Count == 0) continue;
            foreach (var c in found)
            {
                foreach (var v in FromJsonOrString(c.Value, parts[split..])) yield return v;
            }
            yield break;
        }
    }

    private static IEnumerable<string> FromJsonOrString(string value, string[] path)
    {
        if (path.Length == 0 && (value.Length == 0 || value[0] is not ('{' or '[')))
        {
            return [value];
        }
        try
        {
            using var doc = JsonDocument.Parse(value);
            var element = doc.RootElement;
            foreach (var name in path)
            {
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element)) return [];
            }
            return element.ValueKind switch
            {
                JsonValueKind.Array => element.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList(),
                JsonValueKind.String => [element.GetString()!],
                _ => [],
            };
        }
        catch (JsonException)
        {
            return path.Length == 0 ? [value] : [];
        }
    }
}
