using System.CommandLine;
using System.Globalization;
using Vigil.Cli.Cli;
using Vigil.Contracts.Session.V1;

namespace Vigil.Cli.Commands;

/// <summary><c>vigil audit list --course C</c>: a course's audit trail (its exam board, platform operations).</summary>
internal static class AuditCommands
{
    /// <summary>The kinds of action on the command line.</summary>
    public static readonly IReadOnlyDictionary<string, AuditActionKind> Kinds = new Dictionary<string, AuditActionKind>(StringComparer.Ordinal)
    {
        ["exam-created"] = AuditActionKind.ExamCreated,
        ["exam-updated"] = AuditActionKind.ExamUpdated,
        ["extra-time"] = AuditActionKind.ExtraTimeGranted,
        ["decision"] = AuditActionKind.DecisionRecorded,
        ["exception"] = AuditActionKind.SavedAnswersAccepted,
        ["second-look"] = AuditActionKind.SecondLookRequested,
        ["export"] = AuditActionKind.ResultsExported,
        ["allowance"] = AuditActionKind.AllowanceGranted,
        ["reset"] = AuditActionKind.AttemptReset,
    };

    public static Command Create(VigilCommandLine cli)
    {
        var course = OptionKinds.Course();
        var kind = OptionKinds.OneOf("--kind", [.. Kinds.Keys], "Only this kind of action", required: false);
        var from = Time("--from", "Only actions at or after this time (ISO 8601, e.g. 2026-12-01T08:00Z)");
        var to = Time("--to", "Only actions before this time (ISO 8601)");
        var pageSize = OptionKinds.Count("--page-size", "N", "Entries per page (default 50, at most 500)");
        var pageToken = new Option<string>("--page-token") { HelpName = "TOKEN", Description = "The next page (printed after a page)" };
        var allPages = new Option<bool>("--all-pages") { Description = "Every page, one after the other" };
        var list = new Command("list", "The course's recorded staff and board actions (who, role, when, what), oldest first") { course, kind, from, to, pageSize, pageToken, allPages };
        cli.OnGateway(list, async (call, cancellationToken) =>
        {
            var request = new ListAuditEntriesRequest
            {
                CourseId = call.Get(course),
                PageSize = (int)call.Get(pageSize),
                PageToken = call.Get(pageToken) ?? string.Empty,
                From = call.Get(from) is { } f ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(f) : null,
                To = call.Get(to) is { } t ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(t) : null,
            };
            if (call.Get(kind) is { } k) request.Kinds.Add(Kinds[k]);
            call.Output.Emit(await call.Journey.AuditListAsync(call.RequireToken(), request, call.Get(allPages), cancellationToken));
            return 0;
        });
        return new Command("audit", "A course's audit trail (its exam board, platform operations)") { list };
    }

    private static Option<DateTimeOffset?> Time(string name, string description) => new(name)
    {
        HelpName = "TIME",
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)) return value;
            result.AddError($"{name} takes a time (ISO 8601, e.g. 2026-12-01T08:00Z), not '{text}'.");
            return null;
        },
    };
}
