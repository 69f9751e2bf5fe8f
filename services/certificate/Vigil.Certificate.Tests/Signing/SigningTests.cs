using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Vigil.Certificate.Signing;
using Vigil.Certificate.Tests.Infrastructure;

namespace Vigil.Certificate.Tests.Signing;

public sealed class SigningTests
{
    private static CertificateSigner Signer(params (string Id, string Pem)[] keys) =>
        new(Options.Create(new SigningOptions
        {
            ActiveKeyId = keys[0].Id,
            SigningKeys = keys.Select(k => new SigningKeyOptions { KeyId = k.Id, PrivateKeyPem = k.Pem }).ToList(),
        }));

    private static readonly CertificatePayload Sample = new("c1", "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ", "Zoë Martin", "Écologie \"urbaine\"", "course-1",
        new DateTimeOffset(2026, 11, 28, 10, 11, 12, 345, TimeSpan.FromHours(2)), "k1");

    [Fact]
    public void Payload_is_canonical_json_in_a_fixed_order()
    {
        var json = Encoding.UTF8.GetString(Sample.ToCanonicalJson());
        Assert.StartsWith("{\"v\":1,\"alg\":\"ES256\",\"kid\":\"k1\",\"certificateId\":\"c1\",\"verificationCode\":\"ABCD-", json, StringComparison.Ordinal);
        Assert.EndsWith("\"courseId\":\"course-1\",\"issuedAt\":\"2026-11-28T08:11:12.345Z\"}", json, StringComparison.Ordinal);
        Assert.Equal(Sample.ToCanonicalJson(), (Sample with { }).ToCanonicalJson());
        Assert.Equal("ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ", CertificatePayload.ReadVerificationCode(Sample.ToCanonicalJson()));
        Assert.Null(CertificatePayload.ReadVerificationCode("not json"u8));
    }

    [Fact]
    public void Signature_verifies_with_the_published_key_and_fails_when_forged()
    {
        using var signer = Signer(("k1", TestKeys.NewPem()), ("k0", TestKeys.NewPem()));
        var payload = Sample.ToCanonicalJson();
        var signature = signer.Sign(payload);
        Assert.Equal(64, signature.Length);
        Assert.Equal("k1", signer.PublicKeys[0].KeyId);

        using var published = ECDsa.Create();
        published.ImportSubjectPublicKeyInfo(signer.PublicKeys[0].SubjectPublicKeyInfo, out _);
        Assert.True(published.VerifyData(payload, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.True(signer.Verify("k1", payload, signature));
        Assert.True(signer.Verify("", payload, signature));
        Assert.False(signer.Verify("k0", payload, signature));

        var altered = (byte[])payload.Clone();
        altered[^5] ^= 1;
        Assert.False(published.VerifyData(altered, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.False(signer.Verify("k1", altered, signature));
        var badSignature = (byte[])signature.Clone();
        badSignature[10] ^= 1;
        Assert.False(signer.Verify("k1", payload, badSignature));

        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forgedSignature = other.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        Assert.False(signer.Verify("", payload, forgedSignature));
    }

    [Fact]
    public void Codes_are_128_bit_base32_grouped_and_normalised()
    {
        var codes = Enumerable.Range(0, 200).Select(_ => VerificationCodes.New()).ToList();
        Assert.Equal(200, codes.Distinct().Count());
        foreach (var code in codes)
        {
            Assert.Matches("^[A-Z2-7]{4}(-[A-Z2-7]{4}){5}-[A-Z2-7]{2}$", code);
            Assert.Equal(code, VerificationCodes.Normalize(code.ToLowerInvariant().Replace("-", " ", StringComparison.Ordinal)));
        }
        Assert.Null(VerificationCodes.Normalize("ABCD"));
        Assert.Null(VerificationCodes.Normalize("ABCD-EFGH-IJKL-MNOP-QRST-UVWX-Y1"));
        Assert.Null(VerificationCodes.Normalize(null));
    }

    [Fact]
    public void Options_refuse_missing_foreign_or_development_keys_outside_development()
    {
        var pem = TestKeys.NewPem();
        SigningOptions Opts(string id, string key, string active) => new() { ActiveKeyId = active, SigningKeys = [new SigningKeyOptions { KeyId = id, PrivateKeyPem = key }] };

        Assert.Null(Opts("k1", pem, "k1").Validate(developmentLike: false));
        Assert.NotNull(new SigningOptions().Validate(developmentLike: true));
        Assert.NotNull(Opts("k1", pem, "k2").Validate(developmentLike: true));
        Assert.NotNull(Opts("k1", "garbage", "k1").Validate(developmentLike: true));
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Assert.NotNull(Opts("k1", p384.ExportPkcs8PrivateKeyPem(), "k1").Validate(developmentLike: true));
        Assert.Null(Opts(SigningOptions.DevelopmentKeyId, pem, SigningOptions.DevelopmentKeyId).Validate(developmentLike: true));
        Assert.NotNull(Opts(SigningOptions.DevelopmentKeyId, pem, SigningOptions.DevelopmentKeyId).Validate(developmentLike: false));
    }
}
