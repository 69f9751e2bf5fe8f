using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Photos;
using Vigil.Identity.Verification;

namespace Vigil.Identity.Tests.Photos;

/// <summary>The photo steps' rules, without a service: what an inspected photo does to a verification record.</summary>
public sealed class PhotoDecisionsTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly IReadOnlyList<VerificationStep> Steps = VerificationFlow.Steps(roomScanRequired: false);
    private const int Limit = 10;
    private const ulong Face = 0xF0F0_F0F0_F0F0_F0F0;
    private const ulong Document = 0x0123_4567_89AB_CDEF;

    private static InspectedPhoto Photo(ulong hash, params PhotoProblem[] problems) =>
        new(1200, 800, problems, new PhotoMetrics(MeanLuminance: 128, LuminanceSpread: 40, DarkEnd: 20, BrightEnd: 235, ClippedShare: 0.01, DetailShare: 0.6, Sharpness: 300), hash, [1, 2, 3]);

    private static VerificationRecord ReadyForPhotos()
    {
        var record = new VerificationRecord();
        record.Set(VerificationStep.SystemCheck, new StepRecord { State = StepState.Done, CompletedAt = Now });
        record.Set(VerificationStep.MicrophoneTest, new StepRecord { State = StepState.Done, CompletedAt = Now });
        return record;
    }

    private static PhotoDecision Apply(VerificationRecord record, VerificationStep step, InspectedPhoto photo, string id) =>
        PhotoDecisions.Apply("l1", "e1", Steps, record, step, photo, Limit, Now, id);

    [Fact]
    public void A_photo_the_inspector_refused_changes_nothing_and_says_why()
    {
        var record = ReadyForPhotos();
        var problem = new PhotoProblem { Code = PhotoProblemCode.TooDark, Message = "Too dark." };
        var decision = Apply(record, VerificationStep.IdDocumentPhoto, Photo(Document, problem), "ph_1");
        Assert.Equal(PhotoVerdict.Rejected, decision.Response.Verdict);
        Assert.False(decision.RecordChanged);
        Assert.Null(decision.NewPhotoId);
        Assert.Contains("Too dark.", decision.Response.Message, StringComparison.Ordinal);
        Assert.Equal(VerificationStep.IdDocumentPhoto, decision.Response.Status.NextStep);
    }

    [Fact]
    public void An_accepted_id_photo_then_face_completes_the_verification()
    {
        var record = ReadyForPhotos();
        var id = Apply(record, VerificationStep.IdDocumentPhoto, Photo(Document), "ph_id");
        Assert.Equal(PhotoVerdict.Accepted, id.Response.Verdict);
        Assert.Equal("ph_id", id.NewPhotoId);
        Assert.Equal(VerificationStep.FacePhoto, id.Response.Status.NextStep);
        Assert.StartsWith("Your ID-document photo is accepted. ", id.Response.Message, StringComparison.Ordinal);

        var face = Apply(record, VerificationStep.FacePhoto, Photo(Face), "ph_face");
        Assert.Equal(PhotoVerdict.Accepted, face.Response.Verdict);
        Assert.True(face.Response.Status.MayStartExam);
        Assert.Equal("ph_id", face.Response.Status.IdDocumentPhotoId);
    }

    [Fact]
    public void A_face_photo_that_is_the_id_photo_reopens_the_id_step_and_deletes_both()
    {
        var record = ReadyForPhotos();
        Apply(record, VerificationStep.IdDocumentPhoto, Photo(Face), "ph_id"); // the learner photographed their face at the ID step
        var decision = Apply(record, VerificationStep.FacePhoto, Photo(Face ^ 0b11), "ph_face");
        Assert.Equal(PhotoVerdict.Rejected, decision.Response.Verdict);
        Assert.Equal(PhotoProblemCode.IdPhotoShowsFace, Assert.Single(decision.Response.Problems).Code);
        Assert.True(decision.RecordChanged);
        Assert.Equal(["ph_id"], decision.DeletePhotoIds);
        Assert.Equal(StepState.Reopened, record.Get(VerificationStep.IdDocumentPhoto).State);
        Assert.Equal(VerificationStep.IdDocumentPhoto, decision.Response.Status.NextStep);
        Assert.False(decision.Response.Status.MayStartExam);

        // The same face offered again as the ID document is refused outright.
        var again = Apply(record, VerificationStep.IdDocumentPhoto, Photo(Face), "ph_id2");
        Assert.Equal(PhotoVerdict.Rejected, again.Response.Verdict);
        Assert.False(again.RecordChanged);
    }

    [Fact]
    public void A_new_id_photo_replaces_the_old_one()
    {
        var record = ReadyForPhotos();
        Apply(record, VerificationStep.IdDocumentPhoto, Photo(Document), "ph_1");
        var retake = Apply(record, VerificationStep.IdDocumentPhoto, Photo(Document ^ 0xFFFF_0000), "ph_2");
        Assert.Equal(PhotoVerdict.Accepted, retake.Response.Verdict);
        Assert.Equal(["ph_1"], retake.DeletePhotoIds);
        Assert.Equal("ph_2", record.IdPhotoId);
    }
}
