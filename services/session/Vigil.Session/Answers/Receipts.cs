using System.Globalization;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Session.V1;

namespace Vigil.Session.Answers;

/// <summary>A stored answer with its save metadata.</summary>
internal sealed record StoredAnswer(string QuestionId, Answer Answer, long Sequence, string Digest, DateTimeOffset SavedAt);

/// <summary>What a submission records: the receipt and the marks.</summary>
internal sealed record Submission(Receipt Receipt, double Score, double MaxScore);

/// <summary>Builds receipts and scores (pure).</summary>
internal static class Receipts
{
    /// <summary>
    /// The receipt of the stored answers at <paramref name="submittedAt"/>: every question in the exam's order, ticked when
    /// an answer is recorded, and one digest over "vigil-receipt-v1", the session id, the submission time (Unix ms) and
    /// every item (question id, tick, answer digest, sequence), one line each.
    /// </summary>
    public static Submission Build(
        string sessionId, string examId, string learnerId, Exam exam, IReadOnlyDictionary<string, StoredAnswer> answers,
        DateTimeOffset submittedAt, SessionState state, long lastSaveSequence)
    {
        var receipt = new Receipt
        {
            SessionId = sessionId,
            ExamId = examId,
            LearnerId = learnerId,
            SubmittedAt = Timestamp.FromDateTimeOffset(submittedAt),
            State = state,
            LastSaveSequence = lastSaveSequence,
        };
        double score = 0;
        foreach (var q in exam.Questions)
        {
            answers.TryGetValue(q.QuestionId, out var stored);
            receipt.Items.Add(new ReceiptItem
            {
                QuestionId = q.QuestionId,
                Ticked = stored is not null,
                AnswerDigest = stored?.Digest ?? string.Empty,
                Sequence = stored?.Sequence ?? 0,
            });
            score += AnswerRules.Mark(q, stored?.Answer) ?? 0;
        }
        receipt.ReceiptDigest = Digest(receipt);
        return new Submission(receipt, score, AnswerRules.MaxScore(exam));
    }

    /// <summary>The receipt's digest, recomputable by anyone holding the receipt.</summary>
    public static string Digest(Receipt receipt)
    {
        var text = new StringBuilder("vigil-receipt-v1\n");
        text.Append(receipt.SessionId).Append('\n');
        text.Append(receipt.SubmittedAt.ToDateTimeOffset().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var item in receipt.Items)
        {
            text.Append(item.QuestionId).Append('\t')
                .Append(item.Ticked ? '1' : '0').Append('\t')
                .Append(item.AnswerDigest).Append('\t')
                .Append(item.Sequence.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return AnswerRules.Sha256Hex(text.ToString());
    }
}
