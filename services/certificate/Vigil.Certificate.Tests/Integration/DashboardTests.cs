using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Vigil.Contracts.Certificate.V1;
using Vigil.Contracts.Events;
using Vigil.Testing;
using static Vigil.Certificate.Tests.Integration.Events;

namespace Vigil.Certificate.Tests.Integration;

[Collection(RunningServiceCollection.Name)]
public sealed class DashboardTests(RunningService service)
{
    private CertificateHost Host => service.Host;

    [Fact]
    public async Task The_stream_sends_a_snapshot_then_pushes_changes_as_they_happen()
    {
        var (learner, s1, s2) = (NewId("learner"), NewId("session"), NewId("session"));
        await Host.PublishAsync(Submitted(s1, learner));
        await Host.WaitEntryAsync(learner, s1, e => e.Status == ResultStatus.BeingChecked);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = Host.Dashboard(TestTokens.Learner(learner)).WatchDashboard(new WatchDashboardRequest(), cancellationToken: cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        Assert.True(call.ResponseStream.Current.Snapshot);
        Assert.Equal(s1, call.ResponseStream.Current.Entry.SessionId);

        await Host.PublishAsync(Decision(s1, learner, 1, DecisionOutcome.Valid));
        await Host.PublishAsync(Submitted(s2, learner, idPhoto: false));
        var seen = new Dictionary<string, WatchDashboardResponse>();
        while (!(seen.TryGetValue(s1, out var a) && a.Entry.Status == ResultStatus.Certified
                 && seen.TryGetValue(s2, out var b) && b.Entry.Status == ResultStatus.InvalidNoIdPhoto))
        {
            Assert.True(await call.ResponseStream.MoveNext(cts.Token));
            var update = call.ResponseStream.Current;
            Assert.False(update.Snapshot);
            seen[update.Entry.SessionId] = update;
        }
        Assert.NotNull(seen[s1].Entry.Certificate);
    }

    [Fact]
    public async Task A_learner_sees_only_their_own_dashboard()
    {
        var (learner, other, session) = (NewId("learner"), NewId("learner"), NewId("session"));
        await Host.PublishAsync(Submitted(session, learner));
        await Host.WaitEntryAsync(learner, session, _ => true);

        var asOther = Host.Dashboard(TestTokens.Learner(other));
        Assert.Empty((await asOther.GetDashboardAsync(new GetDashboardRequest())).Entries);
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await asOther.GetDashboardAsync(new GetDashboardRequest { LearnerId = learner }));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () =>
        {
            using var call = asOther.WatchDashboard(new WatchDashboardRequest { LearnerId = learner });
            await call.ResponseStream.MoveNext();
        });
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () => await asOther.EraseLearnerDataAsync(new EraseLearnerDataRequest { LearnerId = learner, RequestId = "r" }));
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () =>
            await Host.Dashboard(TestTokens.Board("member", "course-1")).GetDashboardAsync(new GetDashboardRequest { LearnerId = learner }));
        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated, async () =>
            await new DashboardService.DashboardServiceClient(Host.Factory.Channel(null)).GetDashboardAsync(new GetDashboardRequest()));

        // A service or ops may name the learner to read; only the learner or ops may erase.
        var asService = await Host.Dashboard(TestTokens.Service()).GetDashboardAsync(new GetDashboardRequest { LearnerId = learner });
        Assert.Single(asService.Entries);
        Assert.Equal(learner, asService.LearnerId);
        Assert.Single((await Host.Dashboard(TestTokens.Ops()).GetDashboardAsync(new GetDashboardRequest { LearnerId = learner })).Entries);
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, async () =>
            await Host.Dashboard(TestTokens.Service()).EraseLearnerDataAsync(new EraseLearnerDataRequest { LearnerId = learner, RequestId = "r" }));
        Assert.Single((await Host.Dashboard(TestTokens.Learner(learner)).GetDashboardAsync(new GetDashboardRequest())).Entries);
    }

    [Fact]
    public async Task Erasure_removes_the_entries_and_the_certificates_then_verify_as_unknown()
    {
        var (learner, s1, s2) = (NewId("learner"), NewId("session"), NewId("session"));
        var submitted = Submitted(s1, learner);
        await Host.PublishAsync(submitted);
        await Host.PublishAsync(Decision(s1, learner, 1, DecisionOutcome.Valid));
        await Host.PublishAsync(Expired(s2, learner));
        var certified = await Host.WaitEntryAsync(learner, s1, e => e.Status == ResultStatus.Certified);
        await Host.WaitEntryAsync(learner, s2, e => e.Status == ResultStatus.NotSubmitted);
        var code = certified.Certificate.VerificationCode;

        var client = Host.Dashboard(TestTokens.Learner(learner));
        await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await client.EraseLearnerDataAsync(new EraseLearnerDataRequest()));
        await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument, async () => await client.EraseLearnerDataAsync(new EraseLearnerDataRequest { RequestId = "white space" }));
        var erased = await client.EraseLearnerDataAsync(new EraseLearnerDataRequest { RequestId = "erase-1" });
        Assert.Equal(2, erased.EntriesErased);
        Assert.Equal(1, erased.CertificatesErased);
        // The same request again answers the same; a new request finds nothing left.
        Assert.Equal(erased, await client.EraseLearnerDataAsync(new EraseLearnerDataRequest { RequestId = "erase-1" }));
        Assert.Equal(new EraseLearnerDataResponse(), await Host.Dashboard(TestTokens.Ops()).EraseLearnerDataAsync(new EraseLearnerDataRequest { RequestId = "erase-2", LearnerId = learner }));

        Assert.Empty((await client.GetDashboardAsync(new GetDashboardRequest())).Entries);
        var verdict = await Host.Verification().VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = code });
        Assert.Equal(VerificationResult.Unknown, verdict.Result);
        Assert.Null(verdict.Certificate);

        // A redelivered event of the erased session does not bring the data back.
        await Host.PublishAsync(submitted);
        await Host.WaitConsumedAsync(submitted.EventId, 2);
        Assert.Empty((await client.GetDashboardAsync(new GetDashboardRequest())).Entries);
        var keys = await Host.Redis.HashGetAllAsync(Store.CertificateStore.SessionKey(s1));
        Assert.Equal(["erased"], keys.Select(k => k.Name.ToString()));
    }
}

[Collection(RunningServiceCollection.Name)]
public sealed class VerificationTests(RunningService service)
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
        Assert.Equal(VerificationResult.Unknown, (await anonymous.VerifyCertificateAsync(new VerifyCertificateRequest { VerificationCode = Signing.VerificationCodes.New() })).Result);
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
