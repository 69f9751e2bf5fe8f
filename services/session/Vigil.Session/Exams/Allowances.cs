using Vigil.Contracts.Session.V1;

namespace Vigil.Session.Exams;

/// <summary>A learner's allowance in numbers (pure): the time multiplier and the time limit it gives, the audit summary.</summary>
internal static class Allowances
{
    /// <summary>The largest time multiplier.</summary>
    public const double MaxMultiplier = 4;

    /// <summary>The longest grace period after the deadline.</summary>
    public static readonly TimeSpan MaxGrace = TimeSpan.FromHours(2);

    /// <summary>The multiplier of an allowance: 1 without one, or when it says 0.</summary>
    public static double Multiplier(Allowance? allowance) => allowance is null || allowance.TimeMultiplier == 0 ? 1 : allowance.TimeMultiplier;

    /// <summary>The time limit times the multiplier, whole milliseconds down (as the scripts compute it).</summary>
    public static TimeSpan TimeLimit(TimeSpan limit, double multiplier) =>
        TimeSpan.FromMilliseconds(Math.Floor((long)limit.TotalMilliseconds * multiplier));

    /// <summary>The audit trail's words for an allowance: what it allows, never why.</summary>
    public static string Summary(Allowance a)
    {
        var parts = new List<string> { $"time x{Multiplier(a).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)}" };
        var grace = a.GracePeriod?.ToTimeSpan() ?? TimeSpan.Zero;
        parts.Add(grace == TimeSpan.Zero ? "no grace period" : $"grace {grace.TotalMinutes.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)} min");
        var rules = a.AllowedRules ?? new ExamRules();
        var allowed = new[]
        {
            (rules.HeadphonesAllowed, "headphones"), (rules.InternetAllowed, "internet"), (rules.OtherApplicationsAllowed, "other applications"),
            (rules.DocumentsAllowed, "documents"), (rules.CalculatorAllowed, "calculator"), (rules.PenAndPaperAllowed, "pen and paper"),
        }.Where(r => r.Item1).Select(r => r.Item2).ToList();
        parts.Add(allowed.Count == 0 ? "no rule allowed" : "allowed: " + string.Join(", ", allowed));
        return "allowance: " + string.Join(", ", parts);
    }
}
