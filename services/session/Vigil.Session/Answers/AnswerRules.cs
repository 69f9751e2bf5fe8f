using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Vigil.Contracts.Session.V1;

namespace Vigil.Session.Answers;

/// <summary>Pure rules on answers: whether an answer fits its question, its canonical form and digest, and its marking.</summary>
internal static class AnswerRules
{
    /// <summary>Why an answer does not fit its question, or null when it does.</summary>
    public static string? Validate(Question question, Answer answer, int maxTextLength)
    {
        switch (question.Kind)
        {
            case QuestionKind.SingleChoice:
            case QuestionKind.MultipleChoice:
                if (answer.ValueCase != Answer.ValueOneofCase.Choice) return "This question takes a choice of options.";
                var ids = answer.Choice.OptionIds;
                if (ids.Count == 0) return "Choose at least one option.";
                if (question.Kind == QuestionKind.SingleChoice && ids.Count != 1) return "This question takes exactly one option.";
                if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Count) return "An option is chosen twice.";
                var known = question.Options.Select(o => o.OptionId).ToHashSet(StringComparer.Ordinal);
                if (ids.Any(id => !known.Contains(id))) return "An option is not one of the question's options.";
                return null;
            case QuestionKind.ShortText:
                if (answer.ValueCase != Answer.ValueOneofCase.Text) return "This question takes a short text.";
                if (answer.Text.Length > maxTextLength) return $"The text is longer than {maxTextLength} characters.";
                return null;
            case QuestionKind.Numeric:
                if (answer.ValueCase != Answer.ValueOneofCase.Number) return "This question takes a number.";
                if (!double.IsFinite(answer.Number)) return "The number must be finite.";
                return null;
            default:
                return "The question has no kind.";
        }
    }

    /// <summary>The canonical form of an answer: options sorted, text as typed (Unicode NFC), numbers round-trippable.</summary>
    public static string Canonical(Answer answer) => answer.ValueCase switch
    {
        Answer.ValueOneofCase.Choice => "choice:" + string.Join(",", answer.Choice.OptionIds.Order(StringComparer.Ordinal)),
        Answer.ValueOneofCase.Text => "text:" + answer.Text.Normalize(NormalizationForm.FormC),
        Answer.ValueOneofCase.Number => "number:" + answer.Number.ToString("R", CultureInfo.InvariantCulture),
        _ => "none:",
    };

    /// <summary>SHA-256 of the answer's canonical form, lower-case hex.</summary>
    public static string Digest(Answer answer) => Sha256Hex(Canonical(answer));

    /// <summary>SHA-256 of a UTF-8 string, lower-case hex.</summary>
    public static string Sha256Hex(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>The points an answer earns, or null when the question has no answer key.</summary>
    public static double? Mark(Question question, Answer? answer)
    {
        var key = question.AnswerKey;
        if (key is null) return null;
        if (answer is null) return 0;
        var right = question.Kind switch
        {
            QuestionKind.SingleChoice or QuestionKind.MultipleChoice =>
                answer.ValueCase == Answer.ValueOneofCase.Choice
                && answer.Choice.OptionIds.ToHashSet(StringComparer.Ordinal).SetEquals(key.CorrectOptionIds),
            QuestionKind.ShortText =>
                answer.ValueCase == Answer.ValueOneofCase.Text
                && key.AcceptedTexts.Any(t => string.Equals(t.Trim(), answer.Text.Trim(), StringComparison.OrdinalIgnoreCase)),
            QuestionKind.Numeric =>
                answer.ValueCase == Answer.ValueOneofCase.Number
                && Math.Abs(answer.Number - key.NumericValue) <= Math.Abs(key.NumericTolerance),
            _ => false,
        };
        return right ? question.Points : 0;
    }

    /// <summary>The sum of every question's points.</summary>
    public static double MaxScore(Exam exam) => exam.Questions.Sum(q => q.Points);
}
