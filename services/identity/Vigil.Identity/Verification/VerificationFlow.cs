using Google.Protobuf.WellKnownTypes;
using Vigil.Contracts.Identity.V1;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.Identity.Verification;

/// <summary>The order of the verification phase and what the learner is told at each step. Pure logic.</summary>
internal static class VerificationFlow
{
    public const string IdStepInstructions =
        "Photograph your ID document — card or passport — not your face; the face photo comes next. " +
        "Hold the document flat in good light, fill the frame with it, and avoid glare.";

    public const string IdReopenedNote =
        "Your ID-document photo showed the same picture as your face photo: it was not a photo of your document. " +
        "Photograph your ID document (card or passport) now, then your face again.";

    public static IReadOnlyList<VerificationStep> Steps(bool roomScanRequired) => roomScanRequired
        ? [VerificationStep.SystemCheck, VerificationStep.MicrophoneTest, VerificationStep.IdDocumentPhoto, VerificationStep.FacePhoto, VerificationStep.RoomScan]
        : [VerificationStep.SystemCheck, VerificationStep.MicrophoneTest, VerificationStep.IdDocumentPhoto, VerificationStep.FacePhoto];

    /// <summary>The first step not done, or Unspecified when all are.</summary>
    public static VerificationStep Next(VerificationRecord record, IReadOnlyList<VerificationStep> steps) =>
        steps.FirstOrDefault(s => !record.Get(s).IsDone, VerificationStep.Unspecified);

    /// <summary>The most characters a step's details (what the client measured) may have.</summary>
    public const int MaxDetailsLength = 500;

    /// <summary>Requires a step completed without a photo: the photo steps are completed by UploadPhoto, with the photo.</summary>
    public static void RequireStepWithoutPhoto(VerificationStep step)
    {
        if (step is VerificationStep.IdDocumentPhoto or VerificationStep.FacePhoto)
        {
            throw new InvalidRequestException("step", "Photo steps are completed by UploadPhoto, with the photo.");
        }
        if (step is not (VerificationStep.SystemCheck or VerificationStep.MicrophoneTest or VerificationStep.RoomScan))
        {
            throw new InvalidRequestException("step", "Name the step: system check, microphone test or room scan.");
        }
    }

    /// <summary>The step's details as recorded: at most <see cref="MaxDetailsLength"/> characters, without control characters.</summary>
    public static string RequireDetails(string? details)
    {
        details ??= string.Empty;
        if (details.Length > MaxDetailsLength || details.Any(char.IsControl))
        {
            throw new InvalidRequestException("details", $"At most {MaxDetailsLength} characters, without control characters.");
        }
        return details;
    }

    /// <summary>What a check without a photo records: done when it passed, else pending with a note saying to fix it and run it again.</summary>
    public static StepRecord Checked(bool passed, string details, DateTimeOffset now) => passed
        ? new StepRecord { State = StepState.Done, CompletedAt = now, Details = details }
        : new StepRecord { State = StepState.Pending, Details = details, Note = "The last check did not pass" + (details.Length > 0 ? $" ({details})" : string.Empty) + ": fix it and run it again." };

    /// <summary>Throws FailedPrecondition naming the step expected now unless every step before <paramref name="step"/> is done.</summary>
    public static void RequireInOrder(VerificationRecord record, IReadOnlyList<VerificationStep> steps, VerificationStep step, string examId)
    {
        if (!steps.Contains(step))
        {
            throw new PreconditionFailedException(
                "VERIFICATION_STEP_NOT_REQUIRED",
                $"exams/{examId}/verification/{Name(step)}",
                $"This exam's verification does not include {Name(step)}.");
        }
        foreach (var s in steps)
        {
            if (s == step) return;
            if (!record.Get(s).IsDone)
            {
                throw new PreconditionFailedException(
                    "VERIFICATION_STEP_OUT_OF_ORDER",
                    $"exams/{examId}/verification/{Name(s)}",
                    $"{Name(step)} cannot be taken yet: the step expected now is {Name(s)}. {Instructions(s, record)}");
            }
        }
    }

    public static VerificationStatus Status(string learnerId, string examId, VerificationRecord record, IReadOnlyList<VerificationStep> steps)
    {
        var status = new VerificationStatus { LearnerId = learnerId, ExamId = examId };
        foreach (var step in steps)
        {
            var r = record.Get(step);
            var s = new StepStatus { Step = step, State = r.State == StepState.Unspecified ? StepState.Pending : r.State, Note = r.Note ?? string.Empty };
            if (r.IsDone && r.CompletedAt is { } at) s.CompletedAt = Timestamp.FromDateTimeOffset(at);
            status.Steps.Add(s);
            if (!r.IsDone) status.Missing.Add(step);
        }
        status.NextStep = Next(record, steps);
        status.IdDocumentPhotoId = record.Get(VerificationStep.IdDocumentPhoto).IsDone ? record.IdPhotoId ?? string.Empty : string.Empty;
        status.FacePhotoId = record.Get(VerificationStep.FacePhoto).IsDone ? record.FacePhotoId ?? string.Empty : string.Empty;
        status.MayStartExam = status.Missing.Count == 0 && status.IdDocumentPhotoId.Length > 0;
        status.Instructions = status.NextStep == VerificationStep.Unspecified
            ? (status.MayStartExam ? "Verification complete: you may start the exam." : IdStepInstructions)
            : Instructions(status.NextStep, record);
        return status;
    }

    public static string Instructions(VerificationStep step, VerificationRecord record) => step switch
    {
        VerificationStep.SystemCheck => "Run the system check: browser, camera and screen sharing.",
        VerificationStep.MicrophoneTest => "Test your microphone: speak for a few seconds.",
        VerificationStep.IdDocumentPhoto => record.Get(step).State == StepState.Reopened
            ? IdReopenedNote + " " + IdStepInstructions
            : IdStepInstructions,
        VerificationStep.FacePhoto => "Now photograph your face: look at the camera, face well lit, nothing covering it.",
        VerificationStep.RoomScan => "Scan the room slowly with your camera: desk, walls and floor around you.",
        _ => string.Empty,
    };

    public static string Name(VerificationStep step) => step switch
    {
        VerificationStep.SystemCheck => "VERIFICATION_STEP_SYSTEM_CHECK",
        VerificationStep.MicrophoneTest => "VERIFICATION_STEP_MICROPHONE_TEST",
        VerificationStep.IdDocumentPhoto => "VERIFICATION_STEP_ID_DOCUMENT_PHOTO",
        VerificationStep.FacePhoto => "VERIFICATION_STEP_FACE_PHOTO",
        VerificationStep.RoomScan => "VERIFICATION_STEP_ROOM_SCAN",
        _ => "VERIFICATION_STEP_UNSPECIFIED",
    };
}
