using Vigil.Certificate.Signing;
using Vigil.Certificate.Store;
using Vigil.Contracts.Certificate.V1;

namespace Vigil.Certificate.Results;

/// <summary>
/// Turns a session's stored facts into what the dashboard shows: reads the hash, applies
/// <see cref="ResultRules"/> in C#, issues the certificate the first time it is granted, and writes the
/// projection with a compare-and-set on its revision (retrying when a concurrent writer won). Writes nothing
/// when nothing would change, so a duplicate event changes nothing and publishes nothing. Runs after every
/// event, duplicates included, so a crash between the fact and the projection heals on redelivery.
/// </summary>
internal sealed partial class ResultProjector(CertificateStore store, CertificateSigner signer, TimeProvider time, ILogger<ResultProjector> logger)
{
    private const int MaxAttempts = 10;

    /// <summary>
    /// Projects a session; true when the dashboard changed. <paramref name="current"/> is the hash as the fact's
    /// script just left it (saves a read); a lost compare-and-set reads it again.
    /// </summary>
    public async Task<bool> ProjectAsync(string sessionId, SessionRecord? current = null)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var record = attempt == 0 && current is not null ? current : await store.GetAsync(sessionId);
            if (record is null) return false;
            var outcome = ResultRules.Evaluate(record.Facts);
            var fields = new List<KeyValuePair<string, string>>();
            void Set(string field, string value)
            {
                if (record.S(field) != value) fields.Add(new(field, value));
            }

            Set(F.PStatus, SessionRecord.Num((long)outcome.Status));
            Set(F.PReason, outcome.Reason);
            Set(F.PReasonCode, outcome.Status is ResultStatus.Refused or ResultStatus.Withdrawn ? record.DecisionReasonCode : string.Empty);
            Set(F.PScoreReleased, outcome.ScoreReleased ? "1" : "0");

            string? reservedCode = null;
            if (record.CertificateId is null)
            {
                if (outcome.CertificateGranted)
                {
                    reservedCode = await IssueAsync(record, Set);
                }
            }
            else
            {
                var status = outcome.CertificateGranted ? CertificateStatus.Valid : CertificateStatus.Withdrawn;
                Set(F.CStatus, SessionRecord.Num((long)status));
                if (status == CertificateStatus.Withdrawn && record.CertificateStatus != CertificateStatus.Withdrawn)
                {
                    Set(F.CWithdrawnAt, SessionRecord.Ms(record.DecidedAt ?? time.GetUtcNow()));
                }
                Set(F.CWithdrawalReason, status == CertificateStatus.Withdrawn ? outcome.Reason : string.Empty);
            }

            if (fields.Count == 0) return false;
            fields.Add(new(F.PUpdatedAt, SessionRecord.Ms(time.GetUtcNow())));
            var written = await store.TryWriteProjectionAsync(sessionId, record.ProjectionRevision, fields);
            if (written > 0)
            {
                LogProjected(logger, sessionId, outcome.Status, written);
                if (reservedCode is not null) LogIssued(logger, sessionId);
                await store.PublishChangeAsync(record.LearnerId, sessionId);
                return true;
            }
            if (reservedCode is not null) await store.ReleaseCodeAsync(reservedCode);
            if (written < 0) return false;
            LogConflict(logger, sessionId, attempt);
        }
        throw new InvalidOperationException($"The projection of session {sessionId} kept conflicting; the event will be retried.");
    }

    private async Task<string> IssueAsync(SessionRecord record, Action<string, string> set)
    {
        string code;
        do { code = VerificationCodes.New(); }
        while (!await store.ReserveCodeAsync(code, record.SessionId));
        var issuedAt = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
        var certificateId = Guid.NewGuid().ToString("N");
        var payload = new CertificatePayload(certificateId, code, record.LearnerName, record.ExamTitle, record.CourseId, issuedAt, signer.ActiveKeyId)
            .ToCanonicalJson();
        var signature = signer.Sign(payload);
        set(F.CId, certificateId);
        set(F.CCode, code);
        set(F.CIssuedAt, SessionRecord.Ms(issuedAt));
        set(F.CPayload, Convert.ToBase64String(payload));
        set(F.CSignature, Convert.ToBase64String(signature));
        set(F.CKeyId, signer.ActiveKeyId);
        set(F.CStatus, SessionRecord.Num((long)CertificateStatus.Valid));
        return code;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} projected as {Status} (revision {Revision})")]
    private static partial void LogProjected(ILogger logger, string sessionId, ResultStatus status, long revision);

    [LoggerMessage(Level = LogLevel.Information, Message = "Certificate issued for session {SessionId}")]
    private static partial void LogIssued(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Projection of session {SessionId} lost a race (attempt {Attempt}); reading again")]
    private static partial void LogConflict(ILogger logger, string sessionId, int attempt);
}
