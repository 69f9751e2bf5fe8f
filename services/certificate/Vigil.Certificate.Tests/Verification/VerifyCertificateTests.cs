using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Vigil.Certificate.Signing;
using Vigil.Certificate.Tests.Infrastructure;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.Testing;
using static Vigil.Certificate.Tests.Infrastructure.Events;

namespace Vigil.Certificate.Tests.Verification;

/// <summary>VerifyCertificate and ListSigningKeys: valid, forged and bad requests.</summary>
[Collection(RunningServiceCollection.Name)]
public sealed class VerifyCertificateTests(RunningService service)
{
    private CertificateHost Host => service.Host;

    private async Task<Contracts.Certificate.V1.Certificate> CertifyAsync()
    {
        var (learner, session) = (NewId("learner"), NewId("session"));
        await Host.PublishAsync(Submitted(session, learner));
        await Host.PublishAsync(Decision(session, learner, 1, DecisionOutcome.Valid));
        return (await Host.WaitEntryAsync(learner, session, e => e.Status == ResultStatus.Certified)).Certificate;
    }

    [Fact]
    public async Task A_valid_certificate_verifies_by_code_and_by_signature_with_the_published_key()
    {
        var certificate = await CertifyAsync();
        var anonymous = Host.Verification();

        var verdict = await anonymous.VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = certificate.VerificationCode.ToLowerInvariant().Replace("-", "", StringComparison.Ordinal) });
        Assert.Equal(VerificationResult.Valid, verdict.Result);
        Assert.Equal(certificate, verdict.Certificate);

        // A third party checks the signature itself, with the published public key.
        var keys = await anonymous.ListSigningKeysAsync(new ListSigningKeysRequest());
        var key = Assert.Single(keys.Keys);
        Assert.Equal(certificate.KeyId, key.KeyId);
        Assert.Equal("ES256", key.Algorithm);
        using var ec = ECDsa.Create();
        ec.ImportFromPem(key.PublicKeyPem);
        Assert.True(ec.VerifyData(certificate.SignedPayload.ToByteArray(), certificate.Signature.ToByteArray(), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        var json = System.Text.Json.JsonDocument.Parse(certificate.SignedPayload.ToByteArray()).RootElement;
        Assert.Equal(certificate.VerificationCode, json.GetProperty("verificationCode").GetString());
        Assert.Equal(certificate.LearnerName, json.GetProperty("learnerName").GetString());
        Assert.Equal(certificate.CertificateId, json.GetProperty("certificateId").GetString());

        // Presented whole (payload and signature, no code), it verifies too.
        var presented = await anonymous.VerifyCertificateAsync(new VerifyCertificateRequest { PresentedPayload = certificate.SignedPayload, PresentedSignature = certificate.Signature });
        Assert.Equal(VerificationResult.Valid, presented.Result);
    }

    [Fact]
    public async Task A_forged_certificate_fails_verification()
    {
        var certificate = await CertifyAsync();
        var anonymous = Host.Verification();
        var keys = await anonymous.ListSigningKeysAsync(new ListSigningKeysRequest());
        using var ec = ECDsa.Create();
        ec.ImportSubjectPublicKeyInfo(keys.Keys[0].PublicKeySpki.ToByteArray(), out _);

        // Altered payload: another course on a genuine certificate's signature.
        var forgedPayload = System.Text.Encoding.UTF8.GetBytes(certificate.SignedPayload.ToStringUtf8().Replace("\"courseId\":\"course-1\"", "\"courseId\":\"course-9\"", StringComparison.Ordinal));
        Assert.NotEqual(certificate.SignedPayload.ToByteArray(), forgedPayload);
        Assert.False(ec.VerifyData(forgedPayload, certificate.Signature.ToByteArray(), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        var verdict = await anonymous.VerifyCertificateAsync(new VerifyCertificateRequest
        {
            PresentedPayload = ByteString.CopyFrom(forgedPayload),
            PresentedSignature = certificate.Signature,
            PresentedKeyId = certificate.KeyId,
        });
        Assert.Equal(VerificationResult.Forged, verdict.Result);
        Assert.Null(verdict.Certificate);

        // Signed by a key that is not published.
        using var mallory = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ownSignature = mallory.SignData(forgedPayload, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        Assert.False(ec.VerifyData(forgedPayload, ownSignature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.Equal(VerificationResult.Forged, (await anonymous.VerifyCertificateAsync(new VerifyCertificateRequest
        {
            PresentedPayload = ByteString.CopyFrom(forgedPayload),
            PresentedSignature = ByteString.CopyFrom(ownSignature),
        })).Result);

        // Altered signature.
        var badSignature = certificate.Signature.ToByteArray();
        badSignature[0] ^= 0x40;
        Assert.Equal(VerificationResult.Forged, (await anonymous.VerifyCertificateAsync(new VerifyCertificateRequest
        {
            VerificationCode = certificate.VerificationCode,
            PresentedPayload = certificate.SignedPayload,
            PresentedSignature = ByteString.CopyFrom(badSignature),
        })).Result);

        // A made-up code is unknown.
        Assert.Equal(VerificationResult.Unknown, (await anonymous.VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = VerificationCodes.New() })).Result);
        Assert.Equal(VerificationResult.Unknown, (await anonymous.VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = "not-a-code" })).Result);
    }

    [Fact]
    public async Task Bad_requests_are_invalid_arguments_with_the_field()
    {
        var anonymous = Host.Verification();
        var ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await anonymous.VerifyCertificateAsync(new VerifyCertificateRequest()));
        Assert.Equal("verification_code", Assert.Single(RpcAssert.FieldViolations(ex)).Field);
        ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await anonymous.VerifyCertificateAsync(new VerifyCertificateRequest { PresentedPayload = ByteString.CopyFromUtf8("{}") }));
        Assert.Equal("presented_signature", Assert.Single(RpcAssert.FieldViolations(ex)).Field);
    }
}
