using Google.Protobuf.WellKnownTypes;
using Vigil.Cli.Commands;
using Vigil.Contracts.Session.V1;

namespace Vigil.Cli.Tests;

/// <summary>The results export's CSV: one line per row, fields quoted when they must be, formulas defused.</summary>
public sealed class ResultsCsvTests
{
    [Fact]
    public void A_row_is_one_line_of_the_headers_columns_with_quoted_and_defused_fields()
    {
        var row = new ResultRow
        {
            SessionId = "ses-1", ExamId = "exam-1", ExamTitle = "Statistics, part \"2\"", LearnerId = "ada", LearnerName = "=HYPERLINK(\"x\")",
            State = SessionState.SubmittedByException, StartedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero)),
            Score = 7.5, MaxScore = 10, PassMark = 5, Decision = DecisionOutcome.Refused, DecisionVersion = 2, DecisionReason = RefusalReason.ThirdPartyAssistance,
            Attempt = 2, ExamKind = ExamKind.Practice,
        };
        var line = ResultsCsv.Line(row);
        Assert.Equal(
            "ses-1,exam-1,\"Statistics, part \"\"2\"\"\",ada,\"'=HYPERLINK(\"\"x\"\")\",submitted_by_exception,2026-12-01T09:00:00.000Z,,7.5,10,5,refused,2,third-party-assistance,,2,practice",
            line);
        Assert.Equal(17, ResultsCsv.Header.Split(",").Length);
        Assert.Equal("plain", ResultsCsv.Field("plain"));
        Assert.Equal("\"two\nlines\"", ResultsCsv.Field("two\nlines"));
    }
}
