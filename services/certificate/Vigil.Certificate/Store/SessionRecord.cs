using System.Globalization;
using StackExchange.Redis;
using Vigil.Certificate.Results;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;

namespace Vigil.Certificate.Store;

/// <summary>Field names of a session's hash (<see cref="CertificateKeys.Session"/>); the store's own.</summary>
internal static class F
{
    // Identity of the session (set once).
    public const string LearnerId = "learner_id", ExamId = "exam_id", CourseId = "course_id", ExamTitle = "exam_title", LearnerName = "learner_name";
    // Submission facts.
    public const string SubState = "sub_state", SubKind = "sub_kind", SubmittedAt = "submitted_at", Score = "score", MaxScore = "max_score", PassMark = "pass_mark", IdPhoto = "id_photo";
    // Latest decision (highest version).
    public const string DecVersion = "dec_version", DecOutcome = "dec_outcome", DecReasonCode = "dec_reason_code", DecReasonText = "dec_reason_text", DecidedAt = "decided_at";
    // Bumped by every fact change.
    public const string FactsRev = "facts_rev";
    // The projection (what the dashboard shows), written with a compare-and-set on p_rev.
    public const string PRev = "p_rev", PStatus = "p_status", PReason = "p_reason", PReasonCode = "p_reason_code", PScoreReleased = "p_score_released", PUpdatedAt = "p_updated_at";
    // The certificate, once issued (kept when withdrawn).
    public const string CId = "c_id", CCode = "c_code", CIssuedAt = "c_issued_at", CPayload = "c_payload", CSignature = "c_sig", CKeyId = "c_key_id", CStatus = "c_status", CWithdrawnAt = "c_withdrawn_at", CWithdrawalReason = "c_withdrawal_reason";
    // Erasure tombstone: the session's personal data is gone and its events are ignored from now on.
    public const string Erased = "erased";
}

/// <summary>What the dashboard shows for a session, as the projector computes it and the store keeps it.</summary>
internal sealed record Projection(ResultStatus Status, string Reason, string ReasonCode, bool ScoreReleased, CertificateState? Certificate);

/// <summary>The changing part of an issued certificate.</summary>
internal sealed record CertificateState(CertificateStatus Status, DateTimeOffset? WithdrawnAt, string WithdrawalReason);

/// <summary>A certificate as issued (written once, with the projection that grants it).</summary>
internal sealed record IssuedCertificate(string CertificateId, string Code, DateTimeOffset IssuedAt, byte[] Payload, byte[] Signature, string KeyId);

/// <summary>A session's hash, parsed (by the store only; everything above reads these properties).</summary>
internal sealed class SessionRecord
{
    private readonly Dictionary<string, string> _f;

    private SessionRecord(string sessionId, Dictionary<string, string> fields)
    {
        SessionId = sessionId;
        _f = fields;
    }

    internal static SessionRecord? From(string sessionId, HashEntry[] entries)
    {
        if (entries.Length == 0) return null;
        var d = entries.ToDictionary(e => e.Name.ToString(), e => e.Value.ToString(), StringComparer.Ordinal);
        return d.ContainsKey(F.Erased) ? null : new SessionRecord(sessionId, d);
    }

    public string SessionId { get; }
    public string LearnerId => S(F.LearnerId);
    public string ExamId => S(F.ExamId);
    public string CourseId => S(F.CourseId);
    public string ExamTitle => S(F.ExamTitle);
    public string LearnerName => S(F.LearnerName);
    public SubmissionState Submission => S(F.SubState) switch
    {
        "validated" => SubmissionState.Validated,
        "expired" => SubmissionState.Expired,
        _ => SubmissionState.Unknown,
    };
    public DateTimeOffset? SubmittedAt => Time(F.SubmittedAt);
    public double Score => D(F.Score);
    public double MaxScore => D(F.MaxScore);
    public double PassMark => D(F.PassMark);
    public bool IdPhotoAccepted => S(F.IdPhoto) == "1";
    public long DecisionVersion => L(F.DecVersion);
    public DecisionOutcome? Decision => DecisionVersion > 0 ? (DecisionOutcome)L(F.DecOutcome) : null;
    public string DecisionReasonCode => S(F.DecReasonCode);
    public string DecisionReasonText => S(F.DecReasonText);
    public DateTimeOffset? DecidedAt => Time(F.DecidedAt);

    /// <summary>Bumped by every fact that changed something.</summary>
    public long FactsRevision => L(F.FactsRev);

    public long ProjectionRevision => L(F.PRev);

    /// <summary>The projection as stored, or null before the first one.</summary>
    public Projection? Projection => HasProjection
        ? new Projection(Status, Reason, ReasonCode, ScoreReleased, CertificateId is null ? null : new CertificateState(CertificateStatus, WithdrawnAt, WithdrawalReason))
        : null;
    public bool HasProjection => _f.ContainsKey(F.PStatus);
    public ResultStatus Status => (ResultStatus)L(F.PStatus);
    public string Reason => S(F.PReason);
    public string ReasonCode => S(F.PReasonCode);
    public bool ScoreReleased => S(F.PScoreReleased) == "1";
    public DateTimeOffset? UpdatedAt => Time(F.PUpdatedAt);

    public string? CertificateId => _f.GetValueOrDefault(F.CId);
    public string CertificateCode => S(F.CCode);
    public DateTimeOffset? CertificateIssuedAt => Time(F.CIssuedAt);
    public byte[] CertificatePayload => Convert.FromBase64String(S(F.CPayload));
    public byte[] CertificateSignature => Convert.FromBase64String(S(F.CSignature));
    public string CertificateKeyId => S(F.CKeyId);
    public CertificateStatus CertificateStatus => (CertificateStatus)L(F.CStatus);
    public DateTimeOffset? WithdrawnAt => Time(F.CWithdrawnAt);
    public string WithdrawalReason => S(F.CWithdrawalReason);

    /// <summary>The facts the rule table reads.</summary>
    public ResultFacts Facts => new(Submission, IdPhotoAccepted, Score, PassMark, Decision, DecisionReasonText);

    private string S(string field) => _f.GetValueOrDefault(field) ?? string.Empty;

    private long L(string field) => long.TryParse(S(field), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
    private double D(string field) => double.TryParse(S(field), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0;
    private DateTimeOffset? Time(string field) =>
        long.TryParse(S(field), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    internal static string Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
    internal static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    internal static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);
}
