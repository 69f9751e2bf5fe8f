using Vigil.Certificate.Results;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;

namespace Vigil.Certificate.Tests.Results;

/// <summary>
/// The rule table, written as the issue states it (first matching row wins; "*" matches anything), checked
/// against <see cref="ResultRules.Evaluate"/> for EVERY combination of the facts.
/// </summary>
public sealed class ResultRulesTests
{
    // Submission: None (decision only), Expired, FinalCheck, DeadlinePolicy, BoardException.
    // Photo: Y/N. Mark: Below/Equal/Above the pass mark. Decision: None, Valid, Refused, Withdrawn.
    private static readonly (string Submission, string Photo, string Mark, string Decision, ResultStatus Status, bool Certificate)[] Table =
    [
        ("Expired", "*", "*", "*", ResultStatus.NotSubmitted, false),
        ("None", "*", "*", "*", ResultStatus.BeingChecked, false),
        ("*", "N", "*", "*", ResultStatus.InvalidNoIdPhoto, false),
        ("*", "Y", "*", "None", ResultStatus.BeingChecked, false),
        ("*", "Y", "*", "Withdrawn", ResultStatus.Withdrawn, false),
        ("*", "Y", "*", "Refused", ResultStatus.Refused, false),
        ("*", "Y", "Below", "Valid", ResultStatus.NotPassed, false),
        ("*", "Y", "Equal", "Valid", ResultStatus.Certified, true),
        ("*", "Y", "Above", "Valid", ResultStatus.Certified, true),
    ];

    public static TheoryData<string, string, string, string> AllCombinations()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var s in new[] { "None", "Expired", nameof(SubmissionKind.FinalCheck), nameof(SubmissionKind.DeadlinePolicy), nameof(SubmissionKind.BoardException) })
            foreach (var p in new[] { "Y", "N" })
                foreach (var m in new[] { "Below", "Equal", "Above" })
                    foreach (var d in new[] { "None", "Valid", "Refused", "Withdrawn" })
                        data.Add(s, p, m, d);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllCombinations))]
    public void Every_combination_follows_the_table(string submission, string photo, string mark, string decision)
    {
        var row = Table.FirstOrDefault(r => Match(r.Submission, submission) && Match(r.Photo, photo) && Match(r.Mark, mark) && Match(r.Decision, decision));
        Assert.True(row != default, "no row of the table covers this combination");

        var facts = new ResultFacts(
            submission switch { "None" => SubmissionState.Unknown, "Expired" => SubmissionState.Expired, _ => SubmissionState.Validated },
            photo == "Y",
            Score: mark switch { "Below" => 59.5, "Equal" => 60, _ => 88 },
            PassMark: 60,
            Decision: decision == "None" ? null : Enum.Parse<DecisionOutcome>(decision),
            DecisionReasonText: "Use of a calculator.");
        var outcome = ResultRules.Evaluate(facts);

        Assert.Equal(row.Status, outcome.Status);
        Assert.Equal(row.Certificate, outcome.CertificateGranted);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Reason));
        if (outcome.Status is ResultStatus.Refused or ResultStatus.Withdrawn)
        {
            Assert.Contains("Use of a calculator.", outcome.Reason, StringComparison.Ordinal);
        }
        // The score is shown only once the result is final.
        Assert.Equal(outcome.Status is not (ResultStatus.BeingChecked or ResultStatus.NotSubmitted), outcome.ScoreReleased);
    }

    [Fact]
    public void A_certificate_needs_validation_photo_pass_mark_and_a_valid_decision()
    {
        var granted = new ResultFacts(SubmissionState.Validated, true, 60, 60, DecisionOutcome.Valid, "");
        Assert.True(ResultRules.Evaluate(granted).CertificateGranted);
        Assert.False(ResultRules.Evaluate(granted with { Submission = SubmissionState.Expired }).CertificateGranted);
        Assert.False(ResultRules.Evaluate(granted with { IdDocumentPhotoAccepted = false }).CertificateGranted);
        Assert.False(ResultRules.Evaluate(granted with { Score = 59.99 }).CertificateGranted);
        Assert.False(ResultRules.Evaluate(granted with { Decision = DecisionOutcome.Refused }).CertificateGranted);
        Assert.False(ResultRules.Evaluate(granted with { Decision = null }).CertificateGranted);
    }

    [Fact]
    public void Reasons_say_why()
    {
        Assert.Contains("ID document", ResultRules.Evaluate(new ResultFacts(SubmissionState.Validated, false, 99, 60, DecisionOutcome.Valid, "")).Reason, StringComparison.Ordinal);
        Assert.Contains("not submitted", ResultRules.Evaluate(new ResultFacts(SubmissionState.Expired, false, 0, 60, null, "")).Reason, StringComparison.Ordinal);
        Assert.Contains("being checked", ResultRules.Evaluate(new ResultFacts(SubmissionState.Unknown, false, 0, 0, DecisionOutcome.Valid, "")).Reason, StringComparison.Ordinal);
        Assert.Contains("checking", ResultRules.Evaluate(new ResultFacts(SubmissionState.Validated, true, 70, 60, null, "")).Reason, StringComparison.Ordinal);
        Assert.Contains("59.5", ResultRules.Evaluate(new ResultFacts(SubmissionState.Validated, true, 59.5, 60, DecisionOutcome.Valid, "")).Reason, StringComparison.Ordinal);
    }

    private static bool Match(string pattern, string value) =>
        pattern == "*" || pattern == value || (pattern == "Validated" && value is "FinalCheck" or "DeadlinePolicy" or "BoardException");
}
