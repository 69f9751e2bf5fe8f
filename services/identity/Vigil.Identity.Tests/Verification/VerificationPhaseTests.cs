using Grpc.Core;
using SkiaSharp;
using StackExchange.Redis;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Tests.Infrastructure;
using Vigil.Testing;
using Vigil.Testing.Images;

namespace Vigil.Identity.Tests.Verification;

/// <summary>The verification phase: CompleteVerificationStep, GetVerificationStatus and the photo steps, in order; GetPhoto and who reaches it.</summary>
[Collection(IdentityCollection.Name)]
public sealed class VerificationPhaseTests(IdentityFixture fx)
{
    private static CompleteVerificationStepRequest Step(string exam, VerificationStep step, bool passed = true, string? requestId = null) =>
        new() { RequestId = requestId ?? Guid.NewGuid().ToString("N"), ExamId = exam, Step = step, Passed = passed, Details = "ok" };

    private static async Task PassChecks(IdentityService.IdentityServiceClient client, string exam)
    {
        await client.CompleteVerificationStepAsync(Step(exam, VerificationStep.SystemCheck));
        await client.CompleteVerificationStepAsync(Step(exam, VerificationStep.MicrophoneTest));
    }

    [Fact]
    public async Task A_fresh_learner_may_not_start_and_is_told_the_first_step()
    {
        var learner = IdentityFixture.NewId("l");
        var status = (await fx.Learner(learner).GetVerificationStatusAsync(new GetVerificationStatusRequest { ExamId = "exam-1" })).Status;
        Assert.False(status.MayStartExam);
        Assert.Equal(VerificationStep.SystemCheck, status.NextStep);
        Assert.Equal(
            [VerificationStep.SystemCheck, VerificationStep.MicrophoneTest, VerificationStep.IdDocumentPhoto, VerificationStep.FacePhoto],
            status.Missing);
        Assert.All(status.Steps, s => Assert.Equal(StepState.Pending, s.State));
    }

    [Fact]
    public async Task The_whole_phase_in_order_lets_the_learner_start_and_the_photos_are_stored_encrypted()
    {
        var learner = IdentityFixture.NewId("l");
        var exam = IdentityFixture.NewId("exam");
        var client = fx.Learner(learner);
        var status = await TestVerification.CompleteAsync(client, exam);
        Assert.True(status.MayStartExam);
        Assert.Empty(status.Missing);
        Assert.Equal(VerificationStep.Unspecified, status.NextStep);
        Assert.All(status.Steps, s => Assert.Equal(StepState.Done, s.State));
        Assert.StartsWith("ph_", status.IdDocumentPhotoId, StringComparison.Ordinal);
        Assert.NotEqual(status.IdDocumentPhotoId, status.FacePhotoId);

        // The session service sees the same answer.
        var service = fx.Client(TestTokens.Service("session"));
        var seen = (await service.GetVerificationStatusAsync(new GetVerificationStatusRequest { LearnerId = learner, ExamId = exam })).Status;
        Assert.True(seen.MayStartExam);
        Assert.Equal(status.IdDocumentPhotoId, seen.IdDocumentPhotoId);

        // The photo reads back as a clean JPEG, for the service and for the learner.
        var photo = await service.GetPhotoAsync(new GetPhotoRequest { LearnerId = learner, ExamId = exam, Kind = PhotoKind.IdDocument });
        Assert.Equal("image/jpeg", photo.ContentType);
        Assert.Equal(status.IdDocumentPhotoId, photo.PhotoId);
        using (var bitmap = SKBitmap.Decode(photo.Data.ToByteArray()))
        {
            Assert.Equal((TestImages.Width, TestImages.Height), (bitmap.Width, bitmap.Height));
        }
        Assert.True(photo.ExpiresAt.ToDateTimeOffset() - photo.TakenAt.ToDateTimeOffset() == TimeSpan.FromDays(7));
        var own = await client.GetPhotoAsync(new GetPhotoRequest { ExamId = exam, Kind = PhotoKind.Face });
        Assert.Equal(status.FacePhotoId, own.PhotoId);

        // In Redis: not an image without the key, and gone after the retention period.
        var db = fx.Redis.GetDatabase();
        foreach (var id in new[] { status.IdDocumentPhotoId, status.FacePhotoId })
        {
            var key = fx.Keys.Photo(learner, id);
            var stored = (byte[])(await db.HashGetAsync(key, "data"))!;
            Assert.True(stored.Length > 1000);
            Assert.NotEqual([0xFF, 0xD8, 0xFF], stored[..3]);
            Assert.Equal(-1, stored.AsSpan().IndexOf("JFIF"u8));
            using (var skData = SKData.CreateCopy(stored))
            {
                Assert.Null(SKCodec.Create(skData));
            }
            // No run of the plaintext image appears in the stored bytes.
            var plain = (await service.GetPhotoAsync(new GetPhotoRequest { LearnerId = learner, ExamId = exam, Kind = id == status.IdDocumentPhotoId ? PhotoKind.IdDocument : PhotoKind.Face })).Data.ToByteArray();
            for (var offset = 0; offset + 32 <= plain.Length; offset += plain.Length / 16)
            {
                Assert.Equal(-1, stored.AsSpan().IndexOf(plain.AsSpan(offset, 32)));
            }
            var ttl = await db.KeyTimeToLiveAsync(key);
            Assert.NotNull(ttl);
            Assert.InRange(ttl!.Value, TimeSpan.FromDays(7) - TimeSpan.FromMinutes(5), TimeSpan.FromDays(7));
            foreach (var entry in await db.HashGetAllAsync(key))
            {
                if (entry.Name == "data") continue;
                Assert.DoesNotContain("JFIF", entry.Value.ToString(), StringComparison.Ordinal);
            }
        }
        Assert.NotNull(await db.KeyTimeToLiveAsync(fx.Keys.Verification(learner, exam)));
    }

    [Fact]
    public async Task Steps_out_of_order_are_refused_naming_the_step_expected_now()
    {
        var learner = IdentityFixture.NewId("l");
        var exam = IdentityFixture.NewId("exam");
        var client = fx.Learner(learner);

        var ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition,
            () => client.CompleteVerificationStepAsync(Step(exam, VerificationStep.MicrophoneTest)).ResponseAsync);
        var violation = Assert.Single(RpcAssert.PreconditionViolations(ex));
        Assert.Equal("VERIFICATION_STEP_OUT_OF_ORDER", violation.Type);
        Assert.EndsWith("VERIFICATION_STEP_SYSTEM_CHECK", violation.Subject, StringComparison.Ordinal);
        Assert.Contains("VERIFICATION_STEP_SYSTEM_CHECK", ex.Status.Detail, StringComparison.Ordinal);

        ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition,
            () => TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, TestImages.IdDocumentJpeg()));
        Assert.EndsWith("VERIFICATION_STEP_SYSTEM_CHECK", Assert.Single(RpcAssert.PreconditionViolations(ex)).Subject, StringComparison.Ordinal);

        await PassChecks(client, exam);
        // The face photo before the ID document: the ID document is expected.
        ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition,
            () => TestVerification.UploadAsync(client, exam, PhotoKind.Face, TestImages.FaceJpeg()));
        Assert.EndsWith("VERIFICATION_STEP_ID_DOCUMENT_PHOTO", Assert.Single(RpcAssert.PreconditionViolations(ex)).Subject, StringComparison.Ordinal);
        Assert.Contains("not your face", ex.Status.Detail, StringComparison.Ordinal);

        // A room scan where the exam asks for none.
        ex = await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition,
            () => client.CompleteVerificationStepAsync(Step(exam, VerificationStep.RoomScan)).ResponseAsync);
        Assert.Equal("VERIFICATION_STEP_NOT_REQUIRED", Assert.Single(RpcAssert.PreconditionViolations(ex)).Type);

        // Photo steps are not completed without a photo.
        ex = await RpcAssert.ThrowsAsync(StatusCode.InvalidArgument,
            () => client.CompleteVerificationStepAsync(Step(exam, VerificationStep.IdDocumentPhoto)).ResponseAsync);
        Assert.Equal("step", Assert.Single(RpcAssert.FieldViolations(ex)).Field);

        var status = (await client.GetVerificationStatusAsync(new GetVerificationStatusRequest { ExamId = exam })).Status;
        Assert.Equal(VerificationStep.IdDocumentPhoto, status.NextStep);
        Assert.Contains("not your face", status.Instructions, StringComparison.Ordinal);
        Assert.False(status.MayStartExam);
    }

    [Fact]
    public async Task A_failed_check_keeps_the_step_open_with_a_note()
    {
        var learner = IdentityFixture.NewId("l");
        var exam = IdentityFixture.NewId("exam");
        var client = fx.Learner(learner);
        var status = (await client.CompleteVerificationStepAsync(Step(exam, VerificationStep.SystemCheck, passed: false))).Status;
        Assert.Equal(VerificationStep.SystemCheck, status.NextStep);
        Assert.Equal(StepState.Pending, status.Steps[0].State);
        Assert.Contains("did not pass", status.Steps[0].Note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_face_photographed_at_the_id_step_reopens_the_id_step_until_a_real_document_is_sent()
    {
        var learner = IdentityFixture.NewId("l");
        var exam = IdentityFixture.NewId("exam");
        var client = fx.Learner(learner);
        await PassChecks(client, exam);

        // The classic mistake: the face at the ID step (it passes the photo checks)...
        var wrongId = await TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, TestImages.FaceJpeg(3));
        Assert.Equal(PhotoVerdict.Accepted, wrongId.Verdict);
        Assert.Equal(VerificationStep.FacePhoto, wrongId.Status.NextStep);

        // ...then the same face at the face step: caught, the ID step reopens.
        var face = await TestVerification.UploadAsync(client, exam, PhotoKind.Face, TestImages.FaceJpeg(3));
        Assert.Equal(PhotoVerdict.Rejected, face.Verdict);
        Assert.Equal(PhotoProblemCode.IdPhotoShowsFace, Assert.Single(face.Problems).Code);
        Assert.Empty(face.PhotoId);
        var idStep = face.Status.Steps.Single(s => s.Step == VerificationStep.IdDocumentPhoto);
        Assert.Equal(StepState.Reopened, idStep.State);
        Assert.Contains("face", idStep.Note, StringComparison.Ordinal);
        Assert.Equal(VerificationStep.IdDocumentPhoto, face.Status.NextStep);
        Assert.False(face.Status.MayStartExam);
        Assert.Empty(face.Status.IdDocumentPhotoId);
        Assert.Contains("not your face", face.Status.Instructions, StringComparison.Ordinal);

        // The wrong "ID" photo is gone.
        Assert.DoesNotContain(await fx.KeysOf(learner), k => k.Contains(wrongId.PhotoId, StringComparison.Ordinal));
        await RpcAssert.ThrowsAsync(StatusCode.NotFound,
            () => client.GetPhotoAsync(new GetPhotoRequest { ExamId = exam, Kind = PhotoKind.IdDocument }).ResponseAsync);
        // The face step is not open before the document.
        await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition,
            () => TestVerification.UploadAsync(client, exam, PhotoKind.Face, TestImages.FaceJpeg(3)));

        // The same face at the ID step again: refused at once.
        var again = await TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, TestImages.FaceJpeg(3));
        Assert.Equal(PhotoVerdict.Rejected, again.Verdict);
        Assert.Equal(PhotoProblemCode.IdPhotoShowsFace, Assert.Single(again.Problems).Code);

        // The document, then the face: done.
        var id = await TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, TestImages.IdDocumentJpeg(3));
        Assert.Equal(PhotoVerdict.Accepted, id.Verdict);
        Assert.Equal(StepState.Done, id.Status.Steps.Single(s => s.Step == VerificationStep.IdDocumentPhoto).State);
        Assert.False(id.Status.MayStartExam);
        var realFace = await TestVerification.UploadAsync(client, exam, PhotoKind.Face, TestImages.FaceJpeg(3));
        Assert.Equal(PhotoVerdict.Accepted, realFace.Verdict);
        Assert.True(realFace.Status.MayStartExam);
    }

    [Fact]
    public async Task A_face_photo_uploaded_twice_replaces_the_first_and_a_retry_returns_the_first_answer()
    {
        var learner = IdentityFixture.NewId("l");
        var exam = IdentityFixture.NewId("exam");
        var client = fx.Learner(learner);
        var first = await TestVerification.CompleteAsync(client, exam);

        // Same request id: the same answer, nothing new stored.
        var requestId = Guid.NewGuid().ToString("N");
        var retake = await TestVerification.UploadAsync(client, exam, PhotoKind.Face, TestImages.FaceJpeg(1), requestId);
        var keysAfterRetake = await fx.KeysOf(learner);
        var retry = await TestVerification.UploadAsync(client, exam, PhotoKind.Face, TestImages.FaceJpeg(2), requestId);
        Assert.Equal(retake, retry);
        Assert.Equal(keysAfterRetake.Order(), (await fx.KeysOf(learner)).Order());

        Assert.Equal(PhotoVerdict.Accepted, retake.Verdict);
        Assert.NotEqual(first.FacePhotoId, retake.PhotoId);
        Assert.Equal(retake.PhotoId, retake.Status.FacePhotoId);
        Assert.True(retake.Status.MayStartExam);
        var keys = await fx.KeysOf(learner);
        Assert.DoesNotContain(keys, k => k.EndsWith(first.FacePhotoId, StringComparison.Ordinal));
        Assert.Contains(keys, k => k.EndsWith(retake.PhotoId, StringComparison.Ordinal));
        Assert.Equal(2, keys.Count(k => k.Contains(":photo:ph_", StringComparison.Ordinal)));
        var photo = await client.GetPhotoAsync(new GetPhotoRequest { ExamId = exam, Kind = PhotoKind.Face });
        Assert.Equal(retake.PhotoId, photo.PhotoId);
    }

    [Fact]
    public async Task A_step_retried_with_the_same_request_id_returns_the_first_answer()
    {
        var learner = IdentityFixture.NewId("l");
        var exam = IdentityFixture.NewId("exam");
        var client = fx.Learner(learner);
        var request = Step(exam, VerificationStep.SystemCheck);
        var first = await client.CompleteVerificationStepAsync(request);
        await client.CompleteVerificationStepAsync(Step(exam, VerificationStep.MicrophoneTest));
        var retry = await client.CompleteVerificationStepAsync(request);
        Assert.Equal(first, retry);
        Assert.Equal(VerificationStep.MicrophoneTest, retry.Status.NextStep);
        var now = (await client.GetVerificationStatusAsync(new GetVerificationStatusRequest { ExamId = exam })).Status;
        Assert.Equal(VerificationStep.IdDocumentPhoto, now.NextStep);
    }

    [Fact]
    public async Task An_exam_with_a_room_scan_needs_it_after_the_face_photo()
    {
        var learner = IdentityFixture.NewId("l");
        var exam = IdentityFixture.NewId("exam");
        var staff = fx.Client(TestTokens.Staff("teacher", "course-7"));
        var configured = await staff.ConfigureExamVerificationAsync(new ConfigureExamVerificationRequest
        {
            RequestId = "cfg-1", ExamId = exam, CourseId = "course-7", RoomScanRequired = true,
        });
        Assert.Equal(VerificationStep.RoomScan, configured.Steps[^1]);
        var client = fx.Learner(learner);
        await PassChecks(client, exam);
        await RpcAssert.ThrowsAsync(StatusCode.FailedPrecondition,
            () => client.CompleteVerificationStepAsync(Step(exam, VerificationStep.RoomScan)).ResponseAsync);
        await TestVerification.UploadAsync(client, exam, PhotoKind.IdDocument, TestImages.IdDocumentJpeg());
        var face = await TestVerification.UploadAsync(client, exam, PhotoKind.Face, TestImages.FaceJpeg());
        Assert.False(face.Status.MayStartExam);
        Assert.Equal(VerificationStep.RoomScan, face.Status.NextStep);
        var scanned = await client.CompleteVerificationStepAsync(Step(exam, VerificationStep.RoomScan));
        Assert.True(scanned.Status.MayStartExam);

        // Only the course's staff (or a service) configure; another course's staff may not take the exam over.
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, () => fx.Client(TestTokens.Staff("other", "course-8")).ConfigureExamVerificationAsync(
            new ConfigureExamVerificationRequest { RequestId = "x", ExamId = exam, CourseId = "course-8" }).ResponseAsync);
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, () => client.ConfigureExamVerificationAsync(
            new ConfigureExamVerificationRequest { RequestId = "x", ExamId = exam, CourseId = "course-7" }).ResponseAsync);
        var byService = await fx.Client(TestTokens.Service("session")).ConfigureExamVerificationAsync(
            new ConfigureExamVerificationRequest { RequestId = "y", ExamId = IdentityFixture.NewId("exam"), CourseId = "course-9" });
        Assert.Equal(4, byService.Steps.Count);
    }

    [Fact]
    public async Task Only_the_learner_and_the_session_service_reach_a_learners_verification_and_photos()
    {
        var learner = IdentityFixture.NewId("l");
        var exam = IdentityFixture.NewId("exam");
        await TestVerification.CompleteAsync(fx.Learner(learner), exam);
        var photo = new GetPhotoRequest { LearnerId = learner, ExamId = exam, Kind = PhotoKind.IdDocument };
        var status = new GetVerificationStatusRequest { LearnerId = learner, ExamId = exam };
        foreach (var token in new[] { TestTokens.Learner("someone-else"), TestTokens.Board("board-1", "course-1"), TestTokens.Staff("staff-1", "course-1"), TestTokens.Ops() })
        {
            var other = fx.Client(token);
            await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, () => other.GetPhotoAsync(photo).ResponseAsync);
            await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied, () => other.GetVerificationStatusAsync(status).ResponseAsync);
        }
        // A learner uploads only for themselves; a service cannot upload.
        await RpcAssert.ThrowsAsync(StatusCode.PermissionDenied,
            () => TestVerification.UploadAsync(fx.Client(TestTokens.Service()), exam, PhotoKind.IdDocument, TestImages.IdDocumentJpeg()));
        await RpcAssert.ThrowsAsync(StatusCode.Unauthenticated,
            () => fx.Client(TestTokens.Custom("x", ["learner"], key: Convert.ToBase64String(new byte[32]))).GetVerificationStatusAsync(status).ResponseAsync);
    }
}
