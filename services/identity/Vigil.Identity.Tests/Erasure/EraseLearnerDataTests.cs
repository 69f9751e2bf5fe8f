using Grpc.Core;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Tests.Infrastructure;
using Vigil.Testing;
using Vigil.Testing.Images;
using static Vigil.Identity.Tests.Infrastructure.IdentityFixture;

namespace Vigil.Identity.Tests.Erasure;

/// <summary>EraseLearnerData: photos, verifications, registration and mailbox gone everywhere; who may erase.</summary>
[Collection(IdentityCollection.Name)]
public sealed class EraseLearnerDataTests(IdentityFixture fx)
{
    [Fact]
    public async Task Erasure_removes_photos_verifications_registration_and_mailbox_everywhere()
    {
        var learnerId = IdentityFixture.NewId("l");
        var client = fx.Learner(learnerId);
        var email = Mailbox("erase");
        await client.RegisterLearnerAsync(Register(email));
        var exam1 = IdentityFixture.NewId("exam");
        var exam2 = IdentityFixture.NewId("exam");
        await TestVerification.CompleteAsync(client, exam1);
        await TestVerification.CompleteAsync(client, exam2, seed: 4);
        Assert.Contains(await fx.KeysOf(learnerId), k => k.Contains(":photo:ph_", StringComparison.Ordinal));

        // Nobody else erases a learner; ops and the learner do.
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, () => fx.Learner("intruder").EraseLearnerDataAsync(
            new EraseLearnerDataRequest { RequestId = "e1", LearnerId = learnerId }).ResponseAsync);
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, () => fx.Client(TestTokens.Service("session")).EraseLearnerDataAsync(
            new EraseLearnerDataRequest { RequestId = "e1", LearnerId = learnerId }).ResponseAsync);

        var erase = new EraseLearnerDataRequest { RequestId = "erase-1" };
        var erased = await client.EraseLearnerDataAsync(erase);
        Assert.Equal(4, erased.PhotosErased);
        Assert.Equal(2, erased.VerificationsErased);
        Assert.True(erased.LearnerErased);

        // Nothing of the learner is left but the record of this very erasure's answer (for retries).
        var left = await fx.KeysOf(learnerId);
        Assert.All(left, k => Assert.True(k.Contains(":idem:erase:", StringComparison.Ordinal) || k.EndsWith(":index", StringComparison.Ordinal), k));
        Assert.All(await fx.Redis.GetDatabase().SetMembersAsync(fx.Keys.Index(learnerId)),
            m => Assert.Contains(":idem:erase:", m.ToString(), StringComparison.Ordinal));
        Assert.Equal(erased, await client.EraseLearnerDataAsync(erase));
        await RpcAssert.ThrowsAsync(StatusCode.NotFound, () => client.GetLearnerAsync(new GetLearnerRequest()).ResponseAsync);
        await RpcAssert.ThrowsAsync(StatusCode.NotFound, () => fx.Client(TestTokens.Service("session")).GetPhotoAsync(
            new GetPhotoRequest { LearnerId = learnerId, ExamId = exam1, Kind = PhotoKind.IdDocument }).ResponseAsync);
        var status = (await client.GetVerificationStatusAsync(new GetVerificationStatusRequest { ExamId = exam1 })).Status;
        Assert.False(status.MayStartExam);
        Assert.Equal(VerificationStep.SystemCheck, status.NextStep);

        // The mailbox is free again.
        await fx.Learner(IdentityFixture.NewId("l")).RegisterLearnerAsync(Register(email));

        // Erasing again (by ops) succeeds and reports nothing left.
        var again = await fx.Client(TestTokens.Ops()).EraseLearnerDataAsync(new EraseLearnerDataRequest { RequestId = "erase-2", LearnerId = learnerId });
        Assert.Equal(new EraseLearnerDataResponse(), again);
    }
}
