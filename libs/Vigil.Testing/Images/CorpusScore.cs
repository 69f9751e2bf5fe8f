using System.Globalization;
using System.Text;
using Vigil.Contracts.Identity.V1;

namespace Vigil.Testing.Images;

/// <summary>What the service answered for one corpus photo.</summary>
/// <param name="Photo">The photo.</param>
/// <param name="Accepted">ACCEPTED.</param>
/// <param name="FileRefused">Refused as a file (InvalidArgument) before any quality check.</param>
/// <param name="Problems">The problem codes of a rejection.</param>
public sealed record CorpusOutcome(CorpusPhoto Photo, bool Accepted, bool FileRefused, IReadOnlyList<PhotoProblemCode> Problems)
{
    /// <summary>A usable photo the service turned away.</summary>
    public bool FalseRefusal => Photo.Expected == Expectation.Accept && !Accepted;

    /// <summary>An unusable photo (or file) the service took.</summary>
    public bool FalseAcceptance => Photo.Expected != Expectation.Accept && Accepted;

    /// <summary>Refused, as it should be, but for a reason that would send the learner the wrong way.</summary>
    public bool WrongReason => Photo.Expected switch
    {
        Expectation.Reject => !Accepted && (FileRefused || !Problems.Any(Photo.Reasons.Contains)),
        Expectation.RefuseFile => !Accepted && !FileRefused,
        _ => false,
    };

    /// <summary>The answer a person expects.</summary>
    public bool AsExpected => !FalseRefusal && !FalseAcceptance && !WrongReason;

    /// <summary>The answer in a few words: <c>ACCEPTED</c>, <c>REJECTED [TooDark]</c> or <c>FILE REFUSED</c>.</summary>
    public string Verdict => Accepted ? "ACCEPTED" : FileRefused ? "FILE REFUSED" : $"REJECTED [{string.Join(",", Problems)}]";
}

/// <summary>The corpus's score: false refusals and false acceptances per group, as docs/identity.md shows them.</summary>
public static class CorpusScore
{
    /// <summary>A Markdown table: per group, photos, how many should pass and were refused, how many should be refused and were taken, wrong reasons.</summary>
    public static string Table(IReadOnlyList<CorpusOutcome> outcomes)
    {
        var s = new StringBuilder();
        s.AppendLine("| Group | Photos | Should pass | False refusals | Should be refused | False acceptances | Refused for another reason |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var group in outcomes.GroupBy(o => o.Photo.Group))
        {
            Row(s, group.Key, [.. group]);
        }
        Row(s, "**All**", outcomes);
        return s.ToString();
    }

    private static void Row(StringBuilder s, string name, IReadOnlyList<CorpusOutcome> o)
    {
        var pass = o.Count(x => x.Photo.Expected == Expectation.Accept);
        s.AppendLine(CultureInfo.InvariantCulture,
            $"| {name} | {o.Count} | {pass} | {o.Count(x => x.FalseRefusal)} | {o.Count - pass} | {o.Count(x => x.FalseAcceptance)} | {o.Count(x => x.WrongReason)} |");
    }
}
