using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Session.V1;

namespace Vigil.Testing;

/// <summary>
/// Builds exam definitions for tests: an exam of a course, open now (by the clock the service under test uses),
/// 30 minutes, with the questions added. <see cref="Standard"/> and <see cref="Numbered"/> are the two exams most
/// tests take; anything else is one <see cref="With"/> away.
/// </summary>
public sealed class ExamBuilder
{
    private readonly Exam _exam;

    /// <summary>An exam of <paramref name="courseId"/> without questions, whose window opened an hour before <paramref name="now"/> (the real time when null) and closes two hours after.</summary>
    public ExamBuilder(string courseId, DateTimeOffset? now = null)
    {
        var at = now ?? DateTimeOffset.UtcNow;
        _exam = new Exam
        {
            CourseId = courseId,
            Title = "Algorithms — final exam",
            Instructions = "Press the final check button to validate your answers; the save button does not count.",
            PassMark = 1,
            TimeLimit = Duration.FromTimeSpan(TimeSpan.FromMinutes(30)),
            WindowOpensAt = Timestamp.FromDateTimeOffset(at.AddHours(-1)),
            WindowClosesAt = Timestamp.FromDateTimeOffset(at.AddHours(2)),
        };
    }

    /// <summary>
    /// The exam most service tests take: q1 single choice (options a and b, key b, 2 points), q2 short text (key
    /// "Paris", 1 point), q3 numeric without a key (1 point, not auto-marked); pass mark 2.
    /// </summary>
    public static Exam Standard(string courseId, DateTimeOffset? now = null) => new ExamBuilder(courseId, now)
        .SingleChoice("q1", "Pick b.", ["a", "b"], correct: "b", points: 2)
        .ShortText("q2", "Capital of France?", "Paris")
        .Numeric("q3", "Your favourite number.", key: null)
        .PassMark(2)
        .Build();

    /// <summary>An exam of <paramref name="questions"/> numeric questions n0…n(k-1) whose right answer is i (1 point each); pass mark 1.</summary>
    public static Exam Numbered(string courseId, int questions, DateTimeOffset? now = null)
    {
        var builder = new ExamBuilder(courseId, now).Titled("Numbers drill", "Answer each question with its number.");
        for (var i = 0; i < questions; i++) builder.Numeric($"n{i}", $"Write {i}.", key: i);
        return builder.Build();
    }

    /// <summary>The right answer to question <paramref name="questionId"/> ("n7") of a <see cref="Numbered"/> exam.</summary>
    public static Answer NumberedAnswer(string questionId) =>
        TestAnswers.Number(double.Parse(questionId[1..], System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Sets the title and, when given, the instructions.</summary>
    public ExamBuilder Titled(string title, string? instructions = null)
    {
        _exam.Title = title;
        if (instructions is not null) _exam.Instructions = instructions;
        return this;
    }

    /// <summary>Adds a single-choice question (one option id per option, text = id upper-cased).</summary>
    public ExamBuilder SingleChoice(string questionId, string prompt, IEnumerable<string> options, string correct, double points = 1)
    {
        var question = new Question
        {
            QuestionId = questionId, Kind = QuestionKind.SingleChoice, Prompt = prompt, Points = points,
            AnswerKey = new AnswerKey { CorrectOptionIds = { correct } },
        };
        foreach (var option in options) question.Options.Add(new ChoiceOption { OptionId = option, Text = option.ToUpperInvariant() });
        _exam.Questions.Add(question);
        return this;
    }

    /// <summary>Adds a short-text question; its key accepts <paramref name="accepted"/> (not auto-marked when none).</summary>
    public ExamBuilder ShortText(string questionId, string prompt, params string[] accepted) => ShortText(questionId, prompt, 1, accepted);

    /// <summary>Adds a short-text question worth <paramref name="points"/>.</summary>
    public ExamBuilder ShortText(string questionId, string prompt, double points, params string[] accepted)
    {
        var question = new Question { QuestionId = questionId, Kind = QuestionKind.ShortText, Prompt = prompt, Points = points };
        if (accepted.Length > 0) question.AnswerKey = new AnswerKey { AcceptedTexts = { accepted } };
        _exam.Questions.Add(question);
        return this;
    }

    /// <summary>Adds a numeric question; its key is <paramref name="key"/> (not auto-marked when null).</summary>
    public ExamBuilder Numeric(string questionId, string prompt, double? key, double points = 1)
    {
        var question = new Question { QuestionId = questionId, Kind = QuestionKind.Numeric, Prompt = prompt, Points = points };
        if (key is { } k) question.AnswerKey = new AnswerKey { NumericValue = k };
        _exam.Questions.Add(question);
        return this;
    }

    /// <summary>Sets the pass mark.</summary>
    public ExamBuilder PassMark(double passMark)
    {
        _exam.PassMark = passMark;
        return this;
    }

    /// <summary>Sets the time limit.</summary>
    public ExamBuilder TimeLimit(TimeSpan limit)
    {
        _exam.TimeLimit = Duration.FromTimeSpan(limit);
        return this;
    }

    /// <summary>Changes anything else (rules, heartbeat interval, deadline policy…).</summary>
    public ExamBuilder With(Action<Exam> change)
    {
        change(_exam);
        return this;
    }

    /// <summary>The definition (a copy: the builder may go on).</summary>
    public Exam Build() => _exam.Clone();
}

/// <summary>Answers for <see cref="AnswerSave"/>s.</summary>
public static class TestAnswers
{
    /// <summary>A choice of these option ids.</summary>
    public static Answer Choice(params string[] optionIds) => new() { Choice = new ChoiceAnswer { OptionIds = { optionIds } } };

    /// <summary>A short text.</summary>
    public static Answer Text(string text) => new() { Text = text };

    /// <summary>A number.</summary>
    public static Answer Number(double number) => new() { Number = number };
}
