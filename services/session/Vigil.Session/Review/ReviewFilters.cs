using Vigil.Contracts.Session.V1;

namespace Vigil.Session.Review;

/// <summary>
/// What the review index knows of a finished session: read from its record (and its incident count) alone.
/// <paramref name="Practice"/>: a practice exam's session, which the board never decides (RecordDecision refuses it).
/// </summary>
internal sealed record ReviewFacts(bool Finished, long DecisionVersion, long Incidents, bool Exception, long ProblemReports = 0, bool SecondLookOpen = false, bool Practice = false);

/// <summary>
/// The review list's filters as a rule table (pure): which of a course's review sets a finished session belongs to.
/// Each filter is one sorted set of the course (<c>SessionKeys.ReviewSet</c>); the store adds a session to every set
/// whose rule holds and never removes it from a <see cref="Monotonic"/> one (once true, always true: a stale writer
/// cannot undo it). A filter whose rule can turn false again (awaiting a decision) is left only once its rule can
/// never hold again, and readers check every entry against the session before they show it.
/// To add a filter: a value in the contract's <c>ReviewFilter</c>, a line in <see cref="Holds"/> and
/// <see cref="Monotonic"/>, and an <c>IndexForReviewAsync</c> (or <c>PreIndexForReviewAsync</c>) call where the
/// session changes so that the rule turns true.
/// </summary>
internal static class ReviewFilters
{
    /// <summary>Every filter the index keeps, "all" first.</summary>
    public static readonly IReadOnlyList<ReviewFilter> All =
        [ReviewFilter.Unspecified, ReviewFilter.AwaitingDecision, ReviewFilter.Decided, ReviewFilter.WithIncidents, ReviewFilter.WithException, ReviewFilter.WithProblemReport, ReviewFilter.SecondLook];

    /// <summary>Whether a finished session belongs in a filter's list.</summary>
    public static bool Holds(ReviewFilter filter, ReviewFacts f) => f.Finished && filter switch
    {
        ReviewFilter.Unspecified => true,
        // A practice session is never decided, so it never awaits a decision (it stays in "all" and the others).
        ReviewFilter.AwaitingDecision => f.DecisionVersion == 0 && !f.Practice,
        ReviewFilter.Decided => f.DecisionVersion > 0,
        ReviewFilter.WithIncidents => f.Incidents > 0,
        ReviewFilter.WithException => f.Exception,
        ReviewFilter.WithProblemReport => f.ProblemReports > 0,
        ReviewFilter.SecondLook => f.SecondLookOpen,
        _ => false,
    };

    /// <summary>Whether a filter's rule, once true for a session, stays true (decisions, incidents, exceptions and problem reports are never removed).</summary>
    public static bool Monotonic(ReviewFilter filter) => filter is not (ReviewFilter.AwaitingDecision or ReviewFilter.SecondLook);

    /// <summary>
    /// Whether a non-monotonic filter's rule, once false again, may turn true once more (a new second look after one was
    /// closed). Readers never drop such an entry (they skip it); only the writer that made the rule false removes it.
    /// </summary>
    public static bool CanHoldAgain(ReviewFilter filter) => filter == ReviewFilter.SecondLook;

    /// <summary>The filter's name in its key.</summary>
    public static string KeyName(ReviewFilter filter) => filter switch
    {
        ReviewFilter.Unspecified => "all",
        ReviewFilter.AwaitingDecision => "awaiting",
        ReviewFilter.Decided => "decided",
        ReviewFilter.WithIncidents => "incidents",
        ReviewFilter.WithException => "exception",
        ReviewFilter.WithProblemReport => "problem",
        ReviewFilter.SecondLook => "second-look",
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Not a review filter."),
    };
}
