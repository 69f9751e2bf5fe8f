using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Answers;
using Vigil.Session.Exams;
using Vigil.Testing;

namespace Vigil.Session.Tests.Answers;

public sealed class AnswerRulesTests
{
    private static readonly Exam Exam = ExamBuilder.Standard("c1");

    [Fact]
    public void Choice_digest_ignores_the_order_of_options()
    {
        Assert.Equal(AnswerRules.Digest(TestAnswers.Choice("a", "b")), AnswerRules.Digest(TestAnswers.Choice("b", "a")));
        Assert.NotEqual(AnswerRules.Digest(TestAnswers.Choice("a")), AnswerRules.Digest(TestAnswers.Choice("b")));
        Assert.NotEqual(AnswerRules.Digest(TestAnswers.Text("1")), AnswerRules.Digest(TestAnswers.Number(1)));
        Assert.Matches("^[0-9a-f]{64}$", AnswerRules.Digest(TestAnswers.Text("Paris")));
    }

    [Fact]
    public void Answers_that_do_not_fit_their_question_are_refused()
    {
        var q1 = Exam.Questions[0];
        Assert.Null(AnswerRules.Validate(q1, TestAnswers.Choice("a"), 100));
        Assert.NotNull(AnswerRules.Validate(q1, TestAnswers.Choice("a", "b"), 100));
        Assert.NotNull(AnswerRules.Validate(q1, TestAnswers.Choice("z"), 100));
        Assert.NotNull(AnswerRules.Validate(q1, TestAnswers.Text("a"), 100));
        Assert.NotNull(AnswerRules.Validate(Exam.Questions[1], TestAnswers.Text(new string('x', 101)), 100));
        Assert.NotNull(AnswerRules.Validate(Exam.Questions[2], TestAnswers.Number(double.NaN), 100));
        Assert.Null(AnswerRules.Validate(Exam.Questions[2], TestAnswers.Number(4.5), 100));
    }

    [Fact]
    public void Marking_follows_the_answer_key()
    {
        Assert.Equal(2, AnswerRules.Mark(Exam.Questions[0], TestAnswers.Choice("b")));
        Assert.Equal(0, AnswerRules.Mark(Exam.Questions[0], TestAnswers.Choice("a")));
        Assert.Equal(1, AnswerRules.Mark(Exam.Questions[1], TestAnswers.Text("  paris ")));
        Assert.Equal(0, AnswerRules.Mark(Exam.Questions[1], null));
        Assert.Null(AnswerRules.Mark(Exam.Questions[2], TestAnswers.Number(7)));
        var numeric = new Question { Kind = QuestionKind.Numeric, Points = 3, AnswerKey = new AnswerKey { NumericValue = 3.14, NumericTolerance = 0.01 } };
        Assert.Equal(3, AnswerRules.Mark(numeric, TestAnswers.Number(3.145)));
        Assert.Equal(0, AnswerRules.Mark(numeric, TestAnswers.Number(3.2)));
    }

    [Fact]
    public void Receipt_lists_every_question_and_its_digest_covers_the_items()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        var answers = new Dictionary<string, StoredAnswer>
        {
            ["q1"] = new("q1", TestAnswers.Choice("b"), 3, AnswerRules.Digest(TestAnswers.Choice("b")), at),
        };
        var s = Receipts.Build("s1", "e1", "l1", Exam, answers, at, SessionState.Submitted, 3);
        Assert.Equal(["q1", "q2", "q3"], s.Receipt.Items.Select(i => i.QuestionId));
        Assert.True(s.Receipt.Items[0].Ticked);
        Assert.False(s.Receipt.Items[1].Ticked);
        Assert.Equal(2, s.Score);
        Assert.Equal(4, s.MaxScore);
        Assert.Equal(Receipts.Digest(s.Receipt), s.Receipt.ReceiptDigest);
        var tampered = s.Receipt.Clone();
        tampered.Items[0].AnswerDigest = AnswerRules.Digest(TestAnswers.Choice("a"));
        Assert.NotEqual(s.Receipt.ReceiptDigest, Receipts.Digest(tampered));
    }

    [Fact]
    public void Exam_validation_names_each_bad_field_and_defaults_follow_the_platform_rules()
    {
        Assert.Empty(ExamValidator.Validate(Exam));
        var bad = Exam.Clone();
        bad.Title = "";
        bad.Questions[1].QuestionId = "q1";
        bad.PassMark = 99;
        bad.TimeLimit = Duration.FromTimeSpan(TimeSpan.Zero);
        bad.Questions[0].AnswerKey.CorrectOptionIds[0] = "zz";
        var fields = ExamValidator.Validate(bad).Select(v => v.Field).ToList();
        Assert.Contains("exam.title", fields);
        Assert.Contains("exam.questions[1].question_id", fields);
        Assert.Contains("exam.pass_mark", fields);
        Assert.Contains("exam.time_limit", fields);
        Assert.Contains("exam.questions[0].answer_key.correct_option_ids", fields);
        foreach (var attempts in new[] { -1, 11 })
        {
            var tooMany = Exam.Clone();
            tooMany.MaxAttempts = attempts;
            Assert.Equal(["exam.max_attempts"], ExamValidator.Validate(tooMany).Select(v => v.Field));
        }

        var d = ExamValidator.WithDefaults(Exam);
        Assert.False(d.Rules.HeadphonesAllowed || d.Rules.InternetAllowed || d.Rules.CalculatorAllowed || d.Rules.DocumentsAllowed
            || d.Rules.OtherApplicationsAllowed || d.Rules.PenAndPaperAllowed);
        Assert.Equal(DeadlinePolicy.DiscardUnvalidated, d.DeadlinePolicy);
        Assert.Equal(TimeSpan.FromSeconds(5), d.HeartbeatInterval.ToTimeSpan());
        Assert.Equal(TimeSpan.FromSeconds(30), d.ConnectionLostAfter.ToTimeSpan());
        Assert.Equal(1, d.MaxAttempts);
        var three = Exam.Clone();
        three.MaxAttempts = 3;
        Assert.Equal(3, ExamValidator.WithDefaults(three).MaxAttempts);
        Assert.All(ExamValidator.ForLearner(d), q => Assert.Null(q.AnswerKey));
    }
}
