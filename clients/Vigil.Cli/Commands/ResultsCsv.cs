using System.Globalization;
using Vigil.Contracts.Session.V1;

namespace Vigil.Cli.Commands;

/// <summary>The results export as CSV (RFC 4180: comma-separated, CRLF lines, a field quoted when it holds a comma, a quote or a line break).</summary>
internal static class ResultsCsv
{
    /// <summary>The header line.</summary>
    public const string Header =
        "session_id,exam_id,exam_title,learner_id,learner_name,state,started_at,submitted_at,score,max_score,pass_mark,decision,decision_version,decision_reason,erased_at,attempt,exam_kind";

    /// <summary>One row's line.</summary>
    public static string Line(ResultRow r) => string.Join(',',
        Field(r.SessionId), Field(r.ExamId), Field(r.ExamTitle), Field(r.LearnerId), Field(r.LearnerName),
        Journey.Name(r.State).Replace(' ', '_'), Time(r.StartedAt), Time(r.SubmittedAt),
        Number(r.Score), Number(r.MaxScore), Number(r.PassMark),
        r.Decision == DecisionOutcome.Unspecified ? string.Empty : Journey.Name(r.Decision),
        r.DecisionVersion == 0 ? string.Empty : r.DecisionVersion.ToString(CultureInfo.InvariantCulture),
        r.DecisionReason == RefusalReason.Unspecified ? string.Empty : Journey.Name(r.DecisionReason).Replace(' ', '-'),
        Time(r.ErasedAt), r.Attempt == 0 ? string.Empty : r.Attempt.ToString(CultureInfo.InvariantCulture),
        r.ExamKind == ExamKind.Unspecified ? string.Empty : Journey.Name(r.ExamKind));

    /// <summary>A text field, quoted when it must be (and a leading =, +, - or @ kept from spreadsheets' formulas by a quote mark).</summary>
    public static string Field(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@') value = "'" + value;
        return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }

    private static string Time(Google.Protobuf.WellKnownTypes.Timestamp? t) =>
        t is null ? string.Empty : t.ToDateTimeOffset().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static string Number(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
