using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Vigil.Certificate.Dashboard;
using Vigil.Certificate.Signing;
using Vigil.Certificate.Store;
using Vigil.Contracts.Certificate.V1;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.Certificate.Verification;

/// <summary>
/// Public verification (anonymous allowed): by code (valid, withdrawn or unknown), optionally checking a
/// presented payload and signature (forged when they do not match what was issued), and the public keys.
/// </summary>
[AllowAnonymous]
internal sealed partial class VerificationGrpcService(CertificateStore store, CertificateSigner signer, ILogger<VerificationGrpcService> logger)
    : CertificateVerificationService.CertificateVerificationServiceBase
{
    public override async Task<VerifyCertificateResponse> VerifyCertificate(VerifyCertificateRequest request, ServerCallContext context)
    {
        var presented = !request.PresentedPayload.IsEmpty || !request.PresentedSignature.IsEmpty;
        if (presented && (request.PresentedPayload.IsEmpty || request.PresentedSignature.IsEmpty))
        {
            throw new InvalidRequestException(request.PresentedPayload.IsEmpty ? "presented_payload" : "presented_signature",
                "A presented certificate needs both its signed payload and its signature.");
        }
        if (request.PresentedPayload.Length > 16 * 1024 || request.PresentedSignature.Length > 1024)
        {
            throw new InvalidRequestException("presented_payload", "Too large to be a certificate.");
        }
        var rawCode = request.VerificationCode;
        if (string.IsNullOrWhiteSpace(rawCode) && presented)
        {
            rawCode = CertificatePayload.ReadVerificationCode(request.PresentedPayload.Span) ?? string.Empty;
            if (rawCode.Length == 0)
            {
                return Verdict(VerificationResult.Forged);
            }
        }
        if (string.IsNullOrWhiteSpace(rawCode))
        {
            throw new InvalidRequestException("verification_code", "The verification code is required (e.g. ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ).");
        }
        if (rawCode.Length > 100)
        {
            throw new InvalidRequestException("verification_code", "Too long to be a verification code.");
        }

        var code = VerificationCodes.Normalize(rawCode);
        var lookup = code is null ? CodeLookup.None : await store.LookupCodeAsync(code);
        var record = lookup.Record;

        if (presented)
        {
            // A signature that no published key made, or bytes other than those issued under this code: forged.
            // A genuine signature whose certificate is gone (erased) verifies as unknown, below.
            var keyId = request.PresentedKeyId.Length > 0 ? request.PresentedKeyId : record?.CertificateKeyId ?? string.Empty;
            var signed = signer.Verify(keyId, request.PresentedPayload.Span, request.PresentedSignature.Span);
            if (!signed || (record is not null && !request.PresentedPayload.Span.SequenceEqual(record.CertificatePayload))
                || (lookup.ErasedAt is not null && VerificationCodes.Normalize(CertificatePayload.ReadVerificationCode(request.PresentedPayload.Span)) != code))
            {
                LogForged(logger);
                return Verdict(VerificationResult.Forged);
            }
        }

        // Issued, then its learner's data was erased at their request: withdrawn, with nothing of the certificate left.
        if (lookup.ErasedAt is { } erasedAt)
        {
            return new VerifyCertificateResponse
            {
                Result = VerificationResult.Withdrawn,
                WithdrawnAt = Timestamp.FromDateTimeOffset(erasedAt),
                WithdrawalReason = ErasedWithdrawalReason,
            };
        }

        // The stored certificate must still carry a valid signature by one of our keys; otherwise it is not ours.
        if (record is null || !signer.Verify(record.CertificateKeyId, record.CertificatePayload, record.CertificateSignature))
        {
            return Verdict(VerificationResult.Unknown);
        }
        var response = new VerifyCertificateResponse { Certificate = DashboardEntries.ToCertificate(record) };
        if (record.CertificateStatus == CertificateStatus.Withdrawn)
        {
            response.Result = VerificationResult.Withdrawn;
            response.WithdrawalReason = record.WithdrawalReason;
            if (record.WithdrawnAt is { } at) response.WithdrawnAt = Timestamp.FromDateTimeOffset(at);
        }
        else
        {
            response.Result = VerificationResult.Valid;
        }
        return response;
    }

    public override Task<ListSigningKeysResponse> ListSigningKeys(ListSigningKeysRequest request, ServerCallContext context)
    {
        var response = new ListSigningKeysResponse();
        response.Keys.AddRange(signer.PublicKeys.Select(k => new SigningKey
        {
            KeyId = k.KeyId,
            Algorithm = CertificateSigner.Algorithm,
            PublicKeySpki = Google.Protobuf.ByteString.CopyFrom(k.SubjectPublicKeyInfo),
            PublicKeyPem = k.Pem,
        }));
        return Task.FromResult(response);
    }

    /// <summary>Why a certificate whose learner was erased verifies as withdrawn.</summary>
    internal const string ErasedWithdrawalReason =
        "Withdrawn: the holder's data was erased at their request, so Vigil no longer holds this certificate and cannot vouch for it.";

    private static VerifyCertificateResponse Verdict(VerificationResult result) => new() { Result = result };

    [LoggerMessage(Level = LogLevel.Information, Message = "A presented certificate did not match what was issued: forged")]
    private static partial void LogForged(ILogger logger);
}
