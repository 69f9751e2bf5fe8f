using System.Security.Cryptography;
using Vigil.Contracts.Identity.V1;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;
using Vigil.Testing.Images;

namespace Vigil.Session.Tests.Review;

/// <summary>
/// The photos accepted when a session started are pinned to it (ids and SHA-256): the board's record and photos are
/// those, and a retake after the start changes nothing the board sees for that session.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class PinnedEvidenceTests(SessionFixture f)
{
    [Fact]
    public async Task A_retake_after_the_start_changes_nothing_the_board_sees()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var learner = await f.VerifiedLearnerAsync(exam.ExamId);
        var atStart = (await learner.Identity().GetVerificationStatusAsync(new GetVerificationStatusRequest { ExamId = exam.ExamId })).Status;
        var session = await learner.StartAsync(exam.ExamId);
        var board = f.Board(course);

        var before = (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
        Assert.Equal([ReviewPhotoKind.IdDocument, ReviewPhotoKind.Face], before.PinnedPhotos.Select(p => p.Kind));
        Assert.Equal(atStart.IdDocumentPhotoId, before.PinnedPhotos[0].PhotoId);
        Assert.Equal(atStart.FacePhotoId, before.PinnedPhotos[1].PhotoId);
        var idBefore = await board.GetReviewPhotoAsync(new GetReviewPhotoRequest { SessionId = session.SessionId, Kind = ReviewPhotoKind.IdDocument });
        Assert.Equal(before.PinnedPhotos[0].Sha256, Convert.ToHexStringLower(SHA256.HashData(idBefore.Data.Span)));

        // The learner retakes both photos after the start (other pictures): identity now holds new ones.
        foreach (var (kind, photo) in new[] { (PhotoKind.IdDocument, TestImages.IdDocumentJpeg(7)), (PhotoKind.Face, TestImages.FaceJpeg(7)) })
        {
            Assert.Equal(PhotoVerdict.Accepted, (await TestVerification.UploadAsync(learner.Identity(), exam.ExamId, kind, photo)).Verdict);
        }
        var now = (await learner.Identity().GetVerificationStatusAsync(new GetVerificationStatusRequest { ExamId = exam.ExamId })).Status;
        Assert.NotEqual(atStart.IdDocumentPhotoId, now.IdDocumentPhotoId);
        Assert.NotEqual(atStart.FacePhotoId, now.FacePhotoId);

        // The board still sees the pinned photos, byte for byte, for this session.
        var after = (await board.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record;
        Assert.Equal(before.PinnedPhotos, after.PinnedPhotos);
        foreach (var pinned in after.PinnedPhotos)
        {
            var photo = await board.GetReviewPhotoAsync(new GetReviewPhotoRequest { SessionId = session.SessionId, Kind = pinned.Kind });
            Assert.Equal(pinned.PhotoId, photo.PhotoId);
            Assert.Equal(pinned.Sha256, photo.Sha256);
            Assert.Equal(pinned.Sha256, Convert.ToHexStringLower(SHA256.HashData(photo.Data.Span)));
        }
        Assert.Equal(idBefore.Data, (await board.GetReviewPhotoAsync(new GetReviewPhotoRequest { SessionId = session.SessionId, Kind = ReviewPhotoKind.IdDocument })).Data);
    }
}
