using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Verification;

namespace Vigil.Identity.Photos;

/// <summary>What an inspected photo does to the verification record. The verdict, the record's change and what to store.</summary>
/// <param name="Response">The learner's answer, with the verification's status after the change.</param>
/// <param name="RecordChanged">Whether the record changed (and must be committed).</param>
/// <param name="NewPhotoId">The id of the photo to seal and store, when it was accepted.</param>
/// <param name="DeletePhotoIds">Stored photos this one replaces or disqualifies.</param>
internal sealed record PhotoDecision(UploadPhotoResponse Response, bool RecordChanged, string? NewPhotoId, IReadOnlyList<string> DeletePhotoIds);

/// <summary>
/// The photo steps' rules, pure: a photo the inspector refused is rejected; an ID-document photo that is the
/// same picture as the learner's face is rejected; a face photo that is the same picture as the accepted ID
/// photo reopens the ID step (the ID photo showed the face: the classic mistake, impossible to miss).
/// Applying a decision mutates <see cref="VerificationRecord"/>; the caller commits it.
/// </summary>
internal static class PhotoDecisions
{
    /// <summary>Applies <paramref name="photo"/>, taken at <paramref name="step"/>, to the learner's <paramref name="record"/> for an exam.</summary>
    /// <param name="steps">The exam's verification steps, for the status in the answer.</param>
    /// <param name="nearDuplicateMaxDistance">The largest perceptual-hash distance at which two pictures are the same.</param>
    /// <param name="newPhotoId">The id an accepted photo gets.</param>
    public static PhotoDecision Apply(
        string learnerId, string examId, IReadOnlyList<VerificationStep> steps, VerificationRecord record,
        VerificationStep step, InspectedPhoto photo, int nearDuplicateMaxDistance, DateTimeOffset now, string newPhotoId)
    {
        PhotoDecision decision;
        if (!photo.Accepted)
        {
            var refused = new UploadPhotoResponse { Verdict = PhotoVerdict.Rejected, Message = "The photo was not accepted: " + string.Join(" ", photo.Problems.Select(p => p.Message)) };
            refused.Problems.AddRange(photo.Problems);
            decision = new PhotoDecision(refused, false, null, []);
        }
        else
        {
            decision = step == VerificationStep.IdDocumentPhoto
                ? IdDocument(record, photo, nearDuplicateMaxDistance, now, newPhotoId)
                : Face(record, photo, nearDuplicateMaxDistance, now, newPhotoId);
        }
        var response = decision.Response;
        response.Status = VerificationFlow.Status(learnerId, examId, record, steps);
        if (response.Verdict == PhotoVerdict.Accepted) response.Message += " " + response.Status.Instructions;
        return decision;
    }

    private static PhotoDecision IdDocument(VerificationRecord record, InspectedPhoto photo, int limit, DateTimeOffset now, string photoId)
    {
        var faces = record.KnownFaceHashes.ToList();
        if (record.Get(VerificationStep.FacePhoto).IsDone && record.FacePhotoId is not null) faces.Add(record.FacePhotoHash);
        if (faces.Any(h => PerceptualHash.Distance(h, photo.PerceptualHash) <= limit))
        {
            var response = new UploadPhotoResponse
            {
                Verdict = PhotoVerdict.Rejected,
                Message = "The photo was not accepted: it shows your face, not your ID document. " + VerificationFlow.IdStepInstructions,
            };
            response.Problems.Add(new PhotoProblem
            {
                Code = PhotoProblemCode.IdPhotoShowsFace,
                Message = "This is the same picture as your face. At this step, photograph your ID document (card or passport), not your face.",
            });
            return new PhotoDecision(response, false, null, []);
        }
        var delete = record.IdPhotoId is { } old ? new[] { old } : [];
        record.IdPhotoId = photoId;
        record.IdPhotoHash = photo.PerceptualHash;
        record.IdPhotoTakenAt = now;
        record.Set(VerificationStep.IdDocumentPhoto, new StepRecord { State = StepState.Done, CompletedAt = now });
        return new PhotoDecision(new UploadPhotoResponse { Verdict = PhotoVerdict.Accepted, PhotoId = photoId, Message = "Your ID-document photo is accepted." }, true, photoId, delete);
    }

    private static PhotoDecision Face(VerificationRecord record, InspectedPhoto photo, int limit, DateTimeOffset now, string photoId)
    {
        // The classic mistake: an ID step that photographed the face.
        if (record.IdPhotoId is not null && PerceptualHash.Distance(record.IdPhotoHash, photo.PerceptualHash) <= limit)
        {
            var delete = new List<string> { record.IdPhotoId };
            if (record.FacePhotoId is { } oldFace) delete.Add(oldFace);
            record.KnownFaceHashes.Add(record.IdPhotoHash);
            record.IdPhotoId = null;
            record.IdPhotoHash = 0;
            record.IdPhotoTakenAt = null;
            record.FacePhotoId = null;
            record.FacePhotoHash = 0;
            record.FacePhotoTakenAt = null;
            record.Set(VerificationStep.IdDocumentPhoto, new StepRecord { State = StepState.Reopened, Note = VerificationFlow.IdReopenedNote });
            record.Set(VerificationStep.FacePhoto, new StepRecord { State = StepState.Pending });
            var response = new UploadPhotoResponse
            {
                Verdict = PhotoVerdict.Rejected,
                Message = "The ID-document step is open again: your ID photo showed your face. " + VerificationFlow.IdStepInstructions,
            };
            response.Problems.Add(new PhotoProblem
            {
                Code = PhotoProblemCode.IdPhotoShowsFace,
                Message = "Your ID-document photo is the same picture as this face photo: it showed your face, not your document. " +
                          "Photograph your ID document (card or passport) first, then your face again.",
            });
            return new PhotoDecision(response, true, null, delete);
        }
        var replaced = record.FacePhotoId is { } old ? new[] { old } : [];
        record.FacePhotoId = photoId;
        record.FacePhotoHash = photo.PerceptualHash;
        record.FacePhotoTakenAt = now;
        record.Set(VerificationStep.FacePhoto, new StepRecord { State = StepState.Done, CompletedAt = now });
        return new PhotoDecision(new UploadPhotoResponse { Verdict = PhotoVerdict.Accepted, PhotoId = photoId, Message = "Your face photo is accepted." }, true, photoId, replaced);
    }
}
