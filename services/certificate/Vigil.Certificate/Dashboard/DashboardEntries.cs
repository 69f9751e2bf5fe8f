using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Vigil.Certificate.Signing;
using Vigil.Certificate.Store;
using Vigil.Contracts.Certificate.V1;

namespace Vigil.Certificate.Dashboard;

/// <summary>Stored records as the contract's messages.</summary>
internal static class DashboardEntries
{
    public static DashboardEntry ToEntry(SessionRecord r)
    {
        var entry = new DashboardEntry
        {
            SessionId = r.SessionId,
            ExamId = r.ExamId,
            CourseId = r.CourseId,
            ExamTitle = r.ExamTitle,
            Status = r.Status,
            Reason = r.Reason,
            ReasonCode = r.ReasonCode,
            SubmittedAt = Ts(r.SubmittedAt),
            DecidedAt = Ts(r.DecidedAt),
            UpdatedAt = Ts(r.UpdatedAt),
        };
        // The score shows once the result is final (released); while the board checks, it is not shown.
        if (r.ScoreReleased)
        {
            entry.Score = r.Score;
            entry.MaxScore = r.MaxScore;
            entry.PassMark = r.PassMark;
        }
        if (r.CertificateId is not null)
        {
            entry.Certificate = ToCertificate(r);
        }
        return entry;
    }

    public static Contracts.Certificate.V1.Certificate ToCertificate(SessionRecord r) => new()
    {
        CertificateId = r.CertificateId ?? string.Empty,
        VerificationCode = r.CertificateCode,
        LearnerName = r.LearnerName,
        ExamTitle = r.ExamTitle,
        CourseId = r.CourseId,
        IssuedAt = Ts(r.CertificateIssuedAt),
        Status = r.CertificateStatus,
        SignedPayload = ByteString.CopyFrom(r.CertificatePayload),
        Signature = ByteString.CopyFrom(r.CertificateSignature),
        KeyId = r.CertificateKeyId,
        Algorithm = CertificateSigner.Algorithm,
    };

    /// <summary>Newest first: by submission (or expiry) time, then by last change.</summary>
    public static IEnumerable<SessionRecord> NewestFirst(IEnumerable<SessionRecord> records) =>
        records.OrderByDescending(r => r.SubmittedAt ?? r.UpdatedAt ?? DateTimeOffset.MinValue)
            .ThenByDescending(r => r.UpdatedAt ?? DateTimeOffset.MinValue)
            .ThenBy(r => r.SessionId, StringComparer.Ordinal);

    private static Timestamp? Ts(DateTimeOffset? t) => t is { } v ? Timestamp.FromDateTimeOffset(v) : null;
}
