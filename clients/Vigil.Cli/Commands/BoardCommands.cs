using System.CommandLine;
using Vigil.Cli.Cli;
using Vigil.Contracts.Session.V1;

namespace Vigil.Cli.Commands;

/// <summary><c>vigil board list|review|decide|accept-saved|second-look|history</c>: the exam board's review.</summary>
internal static class BoardCommands
{
    /// <summary>The outcomes on the command line.</summary>
    public static readonly IReadOnlyDictionary<string, DecisionOutcome> Outcomes = new Dictionary<string, DecisionOutcome>(StringComparer.Ordinal)
    {
        ["valid"] = DecisionOutcome.Valid,
        ["refused"] = DecisionOutcome.Refused,
        ["withdrawn"] = DecisionOutcome.Withdrawn,
    };

    /// <summary>The review list's filters on the command line.</summary>
    public static readonly IReadOnlyDictionary<string, ReviewFilter> Filters = new Dictionary<string, ReviewFilter>(StringComparer.Ordinal)
    {
        ["all"] = ReviewFilter.Unspecified,
        ["awaiting"] = ReviewFilter.AwaitingDecision,
        ["decided"] = ReviewFilter.Decided,
        ["incidents"] = ReviewFilter.WithIncidents,
        ["exception"] = ReviewFilter.WithException,
        ["problem"] = ReviewFilter.WithProblemReport,
        ["second-look"] = ReviewFilter.SecondLook,
    };

    /// <summary>The refusal reasons on the command line: the proto's names, lower case, with dashes.</summary>
    public static IEnumerable<string> ReasonNames =>
        Enum.GetValues<RefusalReason>().Skip(1).Select(v => Journey.Name(v).Replace(' ', '-'));

    public static Command Create(VigilCommandLine cli)
    {
        var board = new Command("board", "The exam board: sessions to review, a session's record, decisions");

        var course = OptionKinds.Course();
        var awaiting = new Option<bool>("--awaiting") { Description = "Only the sessions awaiting a decision (--filter awaiting)" };
        var filter = OptionKinds.OneOf("--filter", [.. Filters.Keys], "Which sessions", required: false);
        var pageSize = OptionKinds.Count("--page-size", "N", "Sessions per page (default 50, at most 500)");
        var pageToken = new Option<string>("--page-token") { HelpName = "TOKEN", Description = "The next page (printed after a page)" };
        var allPages = new Option<bool>("--all-pages") { Description = "Every page, one after the other" };
        var list = new Command("list", "The course's finished sessions, oldest end first, a page at a time") { course, awaiting, filter, pageSize, pageToken, allPages };
        cli.OnGateway(list, async (call, _) =>
        {
            var which = call.Get(awaiting) ? ReviewFilter.AwaitingDecision : Filters[call.Get(filter) ?? "all"];
            call.Output.Emit(await call.Journey.BoardListAsync(call.RequireToken(), call.Get(course), which, (int)call.Get(pageSize), call.Get(pageToken), call.Get(allPages)));
            return 0;
        });
        board.Subcommands.Add(list);

        var reviewSession = OptionKinds.Session();
        var review = new Command("review", "A session's record: answers, score, heartbeats, incidents, photos") { reviewSession };
        cli.OnGateway(review, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.BoardReviewAsync(call.RequireToken(), call.Get(reviewSession)));
            return 0;
        });
        board.Subcommands.Add(review);

        var decideSession = OptionKinds.Session();
        var outcome = OptionKinds.OneOf("--outcome", [.. Outcomes.Keys], "The decision");
        var reason = new Option<RefusalReason>("--reason")
        {
            HelpName = "REASON",
            Description = "Why a certificate is refused or withdrawn: " + string.Join(", ", ReasonNames),
            CustomParser = result =>
            {
                var text = result.Tokens[0].Value;
                if (ParseReason(text) is { } value) return value;
                result.AddError($"--reason: unknown reason '{text}': {string.Join(", ", ReasonNames)}.");
                return RefusalReason.Unspecified;
            },
        };
        reason.CompletionSources.Add(_ => ReasonNames.Select(n => new System.CommandLine.Completions.CompletionItem(n)));
        var notes = new Option<string>("--notes") { HelpName = "TEXT", Description = "The board's notes", DefaultValueFactory = _ => string.Empty };
        var expected = OptionKinds.Count("--expected-version", "N", "The record's version the decision was made on (refused if another decision came first)");
        var decide = new Command("decide", "Record the board's decision") { decideSession, outcome, reason, notes, expected };
        cli.OnGateway(decide, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.DecideAsync(
                call.RequireToken(), call.Get(decideSession), Outcomes[call.Get(outcome)], call.Get(reason), call.Get(notes), call.Get(expected)));
            return 0;
        });
        board.Subcommands.Add(decide);

        var acceptSession = OptionKinds.Session();
        var report = OptionKinds.Required("--report", "ID", "The learner's problem report this exception answers (its incident id)");
        var why = OptionKinds.Required("--reason", "TEXT", "The documented technical failure");
        var reference = OptionKinds.Required("--reference", "REF", "Its reference (ticket, incident id)");
        var accept = new Command("accept-saved", "Accept the last saved answers of an expired session by exception, citing the learner's problem report")
            { acceptSession, report, why, reference };
        cli.OnGateway(accept, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.AcceptSavedAsync(call.RequireToken(), call.Get(acceptSession), call.Get(report)!, call.Get(why)!, call.Get(reference)!));
            return 0;
        });
        board.Subcommands.Add(accept);

        var lookSession = OptionKinds.Session();
        var lookNotes = new Option<string>("--notes") { HelpName = "TEXT", Description = "Why a second look (for the board)", DefaultValueFactory = _ => string.Empty };
        var look = new Command("second-look", "Mark a finished session for a second review instead of deciding; another member's decision closes it") { lookSession, lookNotes };
        cli.OnGateway(look, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.SecondLookAsync(call.RequireToken(), call.Get(lookSession), call.Get(lookNotes)!));
            return 0;
        });
        board.Subcommands.Add(look);

        var historySession = OptionKinds.Session();
        var history = new Command("history", "Every version of the board's decisions on a session (who, when, why) and its second looks") { historySession };
        cli.OnGateway(history, async (call, _) =>
        {
            call.Output.Emit(await call.Journey.DecisionHistoryAsync(call.RequireToken(), call.Get(historySession)));
            return 0;
        });
        board.Subcommands.Add(history);
        return board;
    }

    /// <summary>A refusal reason from its name ("headphones", "third-party-assistance", "third party assistance"), or null.</summary>
    public static RefusalReason? ParseReason(string text)
    {
        var wanted = text.Replace('-', ' ').Replace('_', ' ').Trim().ToLowerInvariant();
        foreach (var value in Enum.GetValues<RefusalReason>().Skip(1))
        {
            if (Journey.Name(value) == wanted) return value;
        }
        return null;
    }
}
