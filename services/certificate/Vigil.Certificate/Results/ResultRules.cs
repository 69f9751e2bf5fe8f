using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;

namespace Vigil.Certificate.Results;

/// <summary>How far the session's answers got.</summary>
internal enum SubmissionState
{
    /// <summary>Nothing known yet (e.g. a board decision arrived before the submission).</summary>
    Unknown = 0,
    /// <summary>The deadline passed without a final check: not submitted.</summary>
    Expired = 1,
    /// <summary>The answers were validated (final check, deadline policy or board exception).</summary>
    Validated = 2,
}

/// <summary>The stored facts of one session, from which its result is derived.</summary>
/// <param name="Submission">How far the answers got.</param>
/// <param name="IdDocumentPhotoAccepted">Whether an ID-document photo was accepted (known only once validated).</param>
/// <param name="Score">The score.</param>
/// <param name="PassMark">The pass mark.</param>
/// <param name="Decision">The board's latest decision (highest version), null while the board has not decided.</param>
/// <param name="DecisionReasonText">The latest decision's reason, as the learner reads it.</param>
internal sealed record ResultFacts(
    SubmissionState Submission,
    bool IdDocumentPhotoAccepted,
    double Score,
    double PassMark,
    DecisionOutcome? Decision,
    string DecisionReasonText);

/// <summary>The derived result: the dashboard's status, its reason, and whether a certificate is in force.</summary>
internal sealed record ResultOutcome(ResultStatus Status, string Reason, bool CertificateGranted, bool ScoreReleased);

/// <summary>
/// THE rule table of a result, in one pure function. A certificate is granted only when the answers were
/// validated, an ID-document photo was accepted, the score reaches the pass mark and the board's latest
/// decision is valid. In order:
/// <list type="number">
/// <item>expired (answers never validated) → NOT_SUBMITTED, whatever else is known;</item>
/// <item>no submission known yet → BEING_CHECKED (a decision that came first waits for it);</item>
/// <item>validated without an accepted ID-document photo → INVALID_NO_ID_PHOTO, whatever the mark or the board;</item>
/// <item>no board decision yet → BEING_CHECKED;</item>
/// <item>latest decision withdrawn → WITHDRAWN; refused → REFUSED (even with a passing mark);</item>
/// <item>valid but below the pass mark → NOT_PASSED; valid and passed → CERTIFIED.</item>
/// </list>
/// </summary>
internal static class ResultRules
{
    public static ResultOutcome Evaluate(ResultFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        switch (facts.Submission)
        {
            case SubmissionState.Expired:
                return new(ResultStatus.NotSubmitted,
                    "Your answers were never validated with the final check, so the exam was not submitted.", false, false);
            case SubmissionState.Unknown:
                return new(ResultStatus.BeingChecked, "Your exam session is being checked by the exam board.", false, false);
        }
        if (!facts.IdDocumentPhotoAccepted)
        {
            return new(ResultStatus.InvalidNoIdPhoto,
                "No photo of your ID document was taken during the verification phase, so the exam is invalid whatever the mark.",
                false, true);
        }
        return facts.Decision switch
        {
            null => new(ResultStatus.BeingChecked, "Your answers were submitted; the exam board is checking your session.", false, false),
            DecisionOutcome.Withdrawn => new(ResultStatus.Withdrawn, WithReason("The exam board withdrew the certificate", facts.DecisionReasonText), false, true),
            DecisionOutcome.Refused => new(ResultStatus.Refused, WithReason("The exam board refused the certificate", facts.DecisionReasonText), false, true),
            DecisionOutcome.Valid when !Passed(facts) => new(ResultStatus.NotPassed,
                $"Your score of {Format(facts.Score)} did not reach the pass mark of {Format(facts.PassMark)}.", false, true),
            DecisionOutcome.Valid => new(ResultStatus.Certified, "Your certificate is available.", true, true),
            _ => throw new ArgumentOutOfRangeException(nameof(facts), facts.Decision, "Unknown decision outcome."),
        };
    }

    /// <summary>Whether the score reaches the pass mark (reaching it exactly passes).</summary>
    public static bool Passed(ResultFacts facts) => facts.Score >= facts.PassMark;

    private static string WithReason(string what, string reason) =>
        string.IsNullOrWhiteSpace(reason) ? what + "." : $"{what}: {reason.Trim()}";

    private static string Format(double value) => value.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
}
