using Vigil.Contracts.Identity.V1;

namespace Vigil.Identity.Verification;

/// <summary>A learner's verification for one exam, as stored (JSON) under <c>learner:{learnerId}:verif:{examId}</c> (IdentityKeys).</summary>
internal sealed class VerificationRecord
{
    /// <summary>Per step (by enum name): its state.</summary>
    public Dictionary<string, StepRecord> Steps { get; set; } = [];

    public string? IdPhotoId { get; set; }

    public ulong IdPhotoHash { get; set; }

    public DateTimeOffset? IdPhotoTakenAt { get; set; }

    public string? FacePhotoId { get; set; }

    public ulong FacePhotoHash { get; set; }

    public DateTimeOffset? FacePhotoTakenAt { get; set; }

    /// <summary>Perceptual hashes of pictures known to show the learner's face (an ID photo that turned out to be a face).</summary>
    public List<ulong> KnownFaceHashes { get; set; } = [];

    public StepRecord Get(VerificationStep step) =>
        Steps.TryGetValue(step.ToString(), out var s) ? s : new StepRecord();

    public void Set(VerificationStep step, StepRecord record) => Steps[step.ToString()] = record;
}

/// <summary>One step's stored state.</summary>
internal sealed class StepRecord
{
    public StepState State { get; set; } = StepState.Pending;

    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>Why it was reopened or why the last attempt failed, for the learner.</summary>
    public string? Note { get; set; }

    /// <summary>What the client measured (system check, microphone, room scan).</summary>
    public string? Details { get; set; }

    public bool IsDone => State == StepState.Done;
}
