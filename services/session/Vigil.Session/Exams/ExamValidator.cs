using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Session.V1;

namespace Vigil.Session.Exams;

/// <summary>Checks an exam definition and fills the platform's defaults (pure).</summary>
internal static class ExamValidator
{
    public static readonly TimeSpan DefaultHeartbeatInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultConnectionLostAfter = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultWarnBeforeDeadline = TimeSpan.FromMinutes(5);

    /// <summary>The most attempts an exam may allow a learner (the default is one).</summary>
    public const int MaxAttemptsLimit = 10;

    /// <summary>How many attempts an exam allows a learner (0, an exam stored before the setting: one).</summary>
    public static int MaxAttempts(Exam exam) => exam.MaxAttempts > 0 ? exam.MaxAttempts : 1;

    /// <summary>Whether an exam (or a session's snapshot of it) is for practice: nothing of it reaches the certificate service.</summary>
    public static bool IsPractice(Exam exam) => exam.Kind == ExamKind.Practice;

    /// <summary>The field violations of an exam ("exam." prefixed), empty when valid.</summary>
    public static List<(string Field, string Description)> Validate(Exam? exam)
    {
        var v = new List<(string, string)>();
        if (exam is null)
        {
            v.Add(("exam", "The exam is required."));
            return v;
        }
        if (string.IsNullOrWhiteSpace(exam.CourseId)) v.Add(("exam.course_id", "The course is required."));
        if (string.IsNullOrWhiteSpace(exam.Title)) v.Add(("exam.title", "The title is required."));
        else if (exam.Title.Length > 300) v.Add(("exam.title", "The title is longer than 300 characters."));
        if (exam.Questions.Count == 0) v.Add(("exam.questions", "An exam has at least one question."));
        var questionIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < exam.Questions.Count; i++)
        {
            var q = exam.Questions[i];
            var f = $"exam.questions[{i}]";
            if (string.IsNullOrWhiteSpace(q.QuestionId)) v.Add(($"{f}.question_id", "The question id is required."));
            else if (!questionIds.Add(q.QuestionId)) v.Add(($"{f}.question_id", $"The question id '{q.QuestionId}' is used twice."));
            if (q.Kind == QuestionKind.Unspecified) v.Add(($"{f}.kind", "The question's kind is required."));
            if (string.IsNullOrWhiteSpace(q.Prompt)) v.Add(($"{f}.prompt", "The question's text is required."));
            if (!double.IsFinite(q.Points) || q.Points < 0) v.Add(($"{f}.points", "Points are a finite number, zero or more."));
            var isChoice = q.Kind is QuestionKind.SingleChoice or QuestionKind.MultipleChoice;
            var optionIds = new HashSet<string>(StringComparer.Ordinal);
            if (isChoice && q.Options.Count < 2) v.Add(($"{f}.options", "A choice question has at least two options."));
            if (!isChoice && q.Options.Count > 0) v.Add(($"{f}.options", "Only choice questions have options."));
            for (var j = 0; j < q.Options.Count; j++)
            {
                if (string.IsNullOrWhiteSpace(q.Options[j].OptionId)) v.Add(($"{f}.options[{j}].option_id", "The option id is required."));
                else if (!optionIds.Add(q.Options[j].OptionId)) v.Add(($"{f}.options[{j}].option_id", $"The option id '{q.Options[j].OptionId}' is used twice."));
            }
            if (q.AnswerKey is { } key)
            {
                var k = $"{f}.answer_key";
                switch (q.Kind)
                {
                    case QuestionKind.SingleChoice when key.CorrectOptionIds.Count != 1:
                        v.Add(($"{k}.correct_option_ids", "A single-choice key names exactly one option."));
                        break;
                    case QuestionKind.MultipleChoice when key.CorrectOptionIds.Count == 0:
                        v.Add(($"{k}.correct_option_ids", "A multiple-choice key names at least one option."));
                        break;
                    case QuestionKind.ShortText when key.AcceptedTexts.Count == 0 || key.AcceptedTexts.Any(string.IsNullOrWhiteSpace):
                        v.Add(($"{k}.accepted_texts", "A short-text key lists at least one accepted text, none empty."));
                        break;
                    case QuestionKind.Numeric when !double.IsFinite(key.NumericValue) || !double.IsFinite(key.NumericTolerance) || key.NumericTolerance < 0:
                        v.Add(($"{k}.numeric_value", "A numeric key has a finite value and a tolerance of zero or more."));
                        break;
                }
                if (isChoice && key.CorrectOptionIds.Any(id => !optionIds.Contains(id)))
                {
                    v.Add(($"{k}.correct_option_ids", "The key names an option the question does not have."));
                }
            }
        }
        var total = exam.Questions.Where(q => double.IsFinite(q.Points) && q.Points >= 0).Sum(q => q.Points);
        if (!double.IsFinite(exam.PassMark) || exam.PassMark < 0 || exam.PassMark > total)
        {
            v.Add(("exam.pass_mark", $"The pass mark is between 0 and the total of the points ({total})."));
        }
        if (exam.TimeLimit is null || exam.TimeLimit.ToTimeSpan() <= TimeSpan.Zero) v.Add(("exam.time_limit", "The time limit is required and positive."));
        else if (exam.TimeLimit.ToTimeSpan() > TimeSpan.FromHours(24)) v.Add(("exam.time_limit", "The time limit is at most 24 hours."));
        if (exam.WindowOpensAt is null) v.Add(("exam.window_opens_at", "The window's opening is required."));
        if (exam.WindowClosesAt is null) v.Add(("exam.window_closes_at", "The window's closing is required."));
        if (exam.WindowOpensAt is not null && exam.WindowClosesAt is not null && exam.WindowClosesAt.ToDateTimeOffset() <= exam.WindowOpensAt.ToDateTimeOffset())
        {
            v.Add(("exam.window_closes_at", "The window closes after it opens."));
        }
        var hb = exam.HeartbeatInterval?.ToTimeSpan() ?? DefaultHeartbeatInterval;
        var lost = exam.ConnectionLostAfter?.ToTimeSpan() ?? DefaultConnectionLostAfter;
        if (exam.HeartbeatInterval is not null && (hb < TimeSpan.FromMilliseconds(100) || hb > TimeSpan.FromMinutes(5)))
        {
            v.Add(("exam.heartbeat_interval", "The heartbeat interval is between 100 ms and 5 minutes."));
        }
        if (exam.ConnectionLostAfter is not null && lost <= hb)
        {
            v.Add(("exam.connection_lost_after", "The connection-lost gap is longer than the heartbeat interval."));
        }
        if (exam.WarnBeforeDeadline is not null && exam.WarnBeforeDeadline.ToTimeSpan() < TimeSpan.Zero)
        {
            v.Add(("exam.warn_before_deadline", "The warning time is zero or more."));
        }
        if (!System.Enum.IsDefined(exam.DeadlinePolicy)) v.Add(("exam.deadline_policy", "Unknown deadline policy."));
        if (!System.Enum.IsDefined(exam.Kind)) v.Add(("exam.kind", "Unknown exam kind: CERTIFICATION or PRACTICE."));
        if (exam.MaxAttempts < 0 || exam.MaxAttempts > MaxAttemptsLimit)
        {
            v.Add(("exam.max_attempts", $"An exam allows 1 to {MaxAttemptsLimit} attempts per learner (0: the default, 1); not {exam.MaxAttempts}."));
        }
        if (exam.Instructions.Length > 20_000) v.Add(("exam.instructions", "The instructions are longer than 20000 characters."));
        return v;
    }

    /// <summary>The exam with the platform's defaults filled in: rules not allowed, heartbeat 5 s, lost after 30 s, warning 5 min, discard at the deadline, one attempt, a certification exam.</summary>
    public static Exam WithDefaults(Exam exam)
    {
        var e = exam.Clone();
        e.Rules ??= new ExamRules();
        e.HeartbeatInterval ??= Duration.FromTimeSpan(DefaultHeartbeatInterval);
        e.ConnectionLostAfter ??= Duration.FromTimeSpan(DefaultConnectionLostAfter);
        e.WarnBeforeDeadline ??= Duration.FromTimeSpan(DefaultWarnBeforeDeadline);
        if (e.DeadlinePolicy == DeadlinePolicy.Unspecified) e.DeadlinePolicy = DeadlinePolicy.DiscardUnvalidated;
        e.MaxAttempts = MaxAttempts(e);
        if (e.Kind == ExamKind.Unspecified) e.Kind = ExamKind.Certification;
        return e;
    }

    /// <summary>The exam as learners see it: no answer keys.</summary>
    public static IEnumerable<Question> ForLearner(Exam exam) => exam.Questions.Select(q =>
    {
        var c = q.Clone();
        c.AnswerKey = null;
        return c;
    });
}
