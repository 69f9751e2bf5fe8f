using System.Security.Cryptography;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Storage;
using Vigil.Identity.Verification;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.Identity.Photos;

/// <summary>
/// Verification photos at rest: sealed (AES-GCM, bound to the learner, exam, kind and photo id) before they
/// are stored, and GetPhoto, which opens them for the learner or the session service (the board's review).
/// </summary>
internal sealed partial class StoredPhotos(
    IdentityStore store,
    PhotoCipher cipher,
    IOptions<PhotoOptions> options,
    ILogger<StoredPhotos> logger)
{
    /// <summary>A new photo id.</summary>
    public static string NewPhotoId() => "ph_" + Guid.CreateVersion7().ToString("N");

    /// <summary>The accepted photo, re-encoded, encrypted under the active key, with its retention.</summary>
    public NewPhoto Seal(string learnerId, string examId, PhotoKind kind, string photoId, InspectedPhoto photo, DateTimeOffset now)
    {
        var kindName = kind.ToString();
        var blob = cipher.Encrypt(photo.CleanJpeg, AssociatedData(learnerId, examId, kindName, photoId));
        return new NewPhoto(photoId, blob, examId, kindName, now, now + options.Value.Retention, cipher.ActiveKeyId);
    }

    /// <summary>The photo of a kind for an exam: the learner themselves, or a Vigil service naming them.</summary>
    public async Task<GetPhotoResponse> GetAsync(Caller caller, GetPhotoRequest request)
    {
        var learnerId = caller.LearnerData(request.LearnerId, LearnerDataReaders.Services);
        RequestIds.RequireId("exam_id", request.ExamId);
        if (request.Kind is not (PhotoKind.IdDocument or PhotoKind.Face))
        {
            throw new InvalidRequestException("kind", "Say which photo: PHOTO_KIND_ID_DOCUMENT or PHOTO_KIND_FACE.");
        }
        string? photoId;
        if (request.PhotoId.Length > 0)
        {
            photoId = request.PhotoId;
        }
        else
        {
            var (record, _) = await store.LoadVerificationAsync(learnerId, request.ExamId);
            photoId = request.Kind == PhotoKind.IdDocument ? record.IdPhotoId : record.FacePhotoId;
        }
        var stored = (photoId is null ? null : await store.GetPhotoAsync(learnerId, photoId));
        // A photo named by id answers only for its own exam and kind: an id of another exam is as absent as a missing one.
        if (stored is null || stored.ExamId != request.ExamId || stored.Kind != request.Kind.ToString())
        {
            throw new ResourceNotFoundException("photo", $"{request.ExamId}/{request.Kind}");
        }
        var data = Open(learnerId, stored);
        return new GetPhotoResponse
        {
            PhotoId = stored.PhotoId,
            Kind = request.Kind,
            ContentType = "image/jpeg",
            Data = ByteString.CopyFrom(data),
            TakenAt = Timestamp.FromDateTimeOffset(stored.TakenAt),
            ExpiresAt = Timestamp.FromDateTimeOffset(stored.ExpiresAt),
        };
    }

    /// <summary>The accepted photos of a verification (ID document, then face) with the SHA-256 of their image bytes: the evidence a session pins.</summary>
    public async Task<IReadOnlyList<EvidencePhoto>> EvidenceAsync(string learnerId, VerificationRecord record)
    {
        var evidence = new List<EvidencePhoto>();
        foreach (var (kind, photoId) in new[] { (PhotoKind.IdDocument, record.IdPhotoId), (PhotoKind.Face, record.FacePhotoId) })
        {
            if (photoId is null || await store.GetPhotoAsync(learnerId, photoId) is not { } stored) continue;
            evidence.Add(new EvidencePhoto
            {
                PhotoId = stored.PhotoId,
                Kind = kind,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(Open(learnerId, stored))),
                TakenAt = Timestamp.FromDateTimeOffset(stored.TakenAt),
            });
        }
        return evidence;
    }

    private byte[] Open(string learnerId, StoredPhoto stored)
    {
        try
        {
            return cipher.Decrypt(stored.EncryptedData, AssociatedData(learnerId, stored.ExamId, stored.Kind, stored.PhotoId));
        }
        catch (CryptographicException)
        {
            LogUndecryptable(logger, learnerId, PhotoCipher.KeyIdOf(stored.EncryptedData));
            throw new StoredDataUnreadableException("The stored photo cannot be decrypted with the configured keys.");
        }
    }

    /// <summary>What the encryption binds a photo to: moving its bytes to another learner, exam, kind or id breaks it.</summary>
    internal static string AssociatedData(string learnerId, string examId, string kind, string photoId) =>
        $"vigil-photo|{learnerId}|{examId}|{kind}|{photoId}";

    [LoggerMessage(Level = LogLevel.Error, Message = "Stored photo of learner {LearnerId} cannot be decrypted (key id {KeyId})")]
    private static partial void LogUndecryptable(ILogger logger, string learnerId, string keyId);
}
