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

            IssuedCertificate? issued = null;
            CertificateState? certificate = null;
            if (record.Projection?.Certificate is { } existing)
            {
                var status = outcome.CertificateGranted ? CertificateStatus.Valid : CertificateStatus.Withdrawn;
                var newlyWithdrawn = status == CertificateStatus.Withdrawn && existing.Status != CertificateStatus.Withdrawn;
                certificate = new CertificateState(
                    status,
                    newlyWithdrawn ? record.DecidedAt ?? time.GetUtcNow() : existing.WithdrawnAt,
                    status == CertificateStatus.Withdrawn ? outcome.Reason : string.Empty);
            }
            else if (outcome.CertificateGranted)
            {
                issued = await IssueAsync(record);
                certificate = new CertificateState(CertificateStatus.Valid, null, string.Empty);
            }
            var projection = new Projection(
                outcome.Status,
                outcome.Reason,
                outcome.Status is ResultStatus.Refused or ResultStatus.Withdrawn ? record.DecisionReasonCode : string.Empty,
                outcome.ScoreReleased,
                certificate);
            if (issued is null && projection == record.Projection) return false;

            switch (await store.TryWriteProjectionAsync(sessionId, record.ProjectionRevision, projection, issued, time.GetUtcNow()))
            {
                case ProjectionWrite.Written:
                    LogProjected(logger, sessionId, outcome.Status, record.ProjectionRevision + 1);
                    if (issued is not null) LogIssued(logger, sessionId);
                    // The record's expiry moved with this change: its code, in another slot, moves with it.
                    else if (certificate is not null && record.CertificateCode.Length > 0) await store.KeepCodeAsync(record.CertificateCode);
                    await store.PublishChangeAsync(record.LearnerId, sessionId);
                    return true;
                case ProjectionWrite.Erased:
                    if (issued is not null) await store.ReleaseCodeAsync(issued.Code);
                    return false;
                default:
                    if (issued is not null) await store.ReleaseCodeAsync(issued.Code);
                    LogConflict(logger, sessionId, attempt);
                    break;
            }
        }
        throw new InvalidOperationException($"The projection of session {sessionId} kept conflicting; the event will be retried.");
    }

    private async Task<IssuedCertificate> IssueAsync(SessionRecord record)
    {
        string code;
        do { code = VerificationCodes.New(); }
        while (!await store.ReserveCodeAsync(code, record.SessionId));
        var issuedAt = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
        var certificateId = Guid.NewGuid().ToString("N");
        var payload = new CertificatePayload(certificateId, code, record.LearnerName, record.ExamTitle, record.CourseId, issuedAt, signer.ActiveKeyId)
            .ToCanonicalJson();
        return new IssuedCertificate(certificateId, code, issuedAt, payload, signer.Sign(payload), signer.ActiveKeyId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} projected as {Status} (revision {Revision})")]
    private static partial void LogProjected(ILogger logger, string sessionId, ResultStatus status, long revision);

    [LoggerMessage(Level = LogLevel.Information, Message = "Certificate issued for session {SessionId}")]
    private static partial void LogIssued(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Projection of session {SessionId} lost a race (attempt {Attempt}); reading again")]
    private static partial void LogConflict(ILogger logger, string sessionId, int attempt);
}
