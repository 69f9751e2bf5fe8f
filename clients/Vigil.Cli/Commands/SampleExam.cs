using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Session.V1;

namespace Vigil.Cli.Commands;

/// <summary>The demo's exam (three auto-marked questions) and the answers the demo learner gives.</summary>
internal static class SampleExam
{
    public static Exam Create(string courseId, DateTime now) => new()
    {
        CourseId = courseId,
        Title = "Introduction to Statistics — final exam",
        Instructions = "Answer every question. Your answers are saved as you go, but only the final check (\"Validate my answers\") submits them.",
        PassMark = 2,
        TimeLimit = Duration.FromTimeSpan(TimeSpan.FromMinutes(30)),
        WindowOpensAt = Timestamp.FromDateTime(now.AddMinutes(-5)),
        WindowClosesAt = Timestamp.FromDateTime(now.AddHours(2)),
        HeartbeatInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)),
        ConnectionLostAfter = Duration.FromTimeSpan(TimeSpan.FromSeconds(30)),
        DeadlinePolicy = DeadlinePolicy.DiscardUnvalidated,
        Rules = new ExamRules { CalculatorAllowed = true },
        Questions =
        {
            new Question
            {
                QuestionId = "q1", Kind = QuestionKind.SingleChoice, Points = 1,
                Prompt = "Which measure of central tendency is least affected by outliers?",
                Options = { new ChoiceOption { OptionId = "mean", Text = "The mean" }, new ChoiceOption { OptionId = "median", Text = "The median" } },
                AnswerKey = new AnswerKey { CorrectOptionIds = { "median" } },
            },
            new Question
            {
                QuestionId = "q2", Kind = QuestionKind.Numeric, Points = 1,
                Prompt = "What is the mean of 2, 4 and 9?",
                AnswerKey = new AnswerKey { NumericValue = 5, NumericTolerance = 0.001 },
            },
            new Question
            {
                QuestionId = "q3", Kind = QuestionKind.ShortText, Points = 1,
                Prompt = "What is the name of the bell-shaped distribution?",
                AnswerKey = new AnswerKey { AcceptedTexts = { "normal", "gaussian", "normal distribution" } },
            },
        },
    };

    public static IReadOnlyList<(string QuestionId, Answer Answer)> Answers() =>
    [
        ("q1", new Answer { Choice = new ChoiceAnswer { OptionIds = { "mean" } } }),
        ("q2", new Answer { Number = 5 }),
        ("q1", new Answer { Choice = new ChoiceAnswer { OptionIds = { "median" } } }),
        ("q3", new Answer { Text = "Normal" }),
    ];
}
