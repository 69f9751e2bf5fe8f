using System.Buffers;
using System.Security.Cryptography;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Emails;
using Vigil.Identity.Photos;
using Vigil.Identity.Storage;
using Vigil.Identity.Verification;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.Identity.Grpc;

/// <summary>The identity service's gRPC surface. Who may call what: see docs/identity.md.</summary>
internal sealed partial class IdentityGrpcService(
    IdentityStore store,
    EmailChecker emails,
    PhotoInspector inspector,
    PhotoCipher cipher,
    IOptions<PhotoOptions> photoOptions,
    IOptions<IdentityOptions> identityOptions,
    TimeProvider clock,
    ILogger<IdentityGrpcService> logger) : IdentityService.IdentityServiceBase
{
    private const int MaxCommitAttempts = 8;
    private readonly PhotoOptions _photos = photoOptions.Value;
    private readonly IdentityOptions _identity = identityOptions.Value;

    // ---------------- emails and learners ----------------

    public override Task<CheckEmailResponse> CheckEmail(CheckEmailRequest request, ServerCallContext context)
    {
        Caller.From(context);
        return Task.FromResult(emails.Check(request.Email).ToResponse());
    }

    public override async Task<RegisterLearnerResponse> RegisterLearner(RegisterLearnerRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        caller.RequireLearner();
        var learnerId = caller.Subject;
        RequestIds.RequireRequestId(request.RequestId);
        if (await store.GetIdempotentAsync(learnerId, "register", request.RequestId) is { } previous)
        {
            return RegisterLearnerResponse.Parser.ParseFrom(previous);
        }
        var check = emails.Check(request.Email);
        if (!check.Accepted)
        {
            throw new InvalidRequestException("email", check.Message);
        }
        var displayName = (request.DisplayName ?? string.Empty).Trim();
        if (displayName.Length == 0) displayName = caller.Name ?? string.Empty;
        if (displayName.Length > 200 || displayName.Any(char.IsControl))
        {
            throw new InvalidRequestException("display_name", "The name must be at most 200 characters, without control characters.");
        }
        var now = DateTimeOffset.FromUnixTimeMilliseconds(clock.GetUtcNow().ToUnixTimeMilliseconds()); // stored to the millisecond
        var existing = await store.GetLearnerAsync(learnerId);
        if (existing is null || existing.CanonicalEmail != check.CanonicalEmail)
        {
            await ClaimEmailAsync(check.CanonicalEmail, learnerId, now);
        }
        var learner = new StoredLearner(learnerId, request.Email, check.CanonicalEmail, displayName, existing?.RegisteredAt ?? now);
        var response = new RegisterLearnerResponse { Learner = ToProto(learner) };
        string previousCanonical;
        try
        {
            previousCanonical = await store.SaveLearnerAsync(learner, ("register", request.RequestId, response.ToByteArray(), _identity.IdempotencyWindow));
        }
        catch when (existing?.CanonicalEmail != check.CanonicalEmail)
        {
            // Compensation: the mailbox was claimed in another slot; give it back if the record was not written.
            await store.ReleaseEmailAsync(check.CanonicalEmail, learnerId);
            throw;
        }
        if (previousCanonical.Length > 0 && previousCanonical != check.CanonicalEmail)
        {
            await store.ReleaseEmailAsync(previousCanonical, learnerId);
        }
        LogRegistered(logger, learnerId);
        return response;
    }

    private async Task ClaimEmailAsync(string canonical, string learnerId, DateTimeOffset now)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var claim = await store.TryClaimEmailAsync(canonical, learnerId, now);
            if (claim is null || claim.LearnerId == learnerId) return;
            var holder = await store.GetLearnerAsync(claim.LearnerId);
            var stale = holder?.CanonicalEmail != canonical && now - claim.ClaimedAt > _identity.EmailClaimGrace;
            if (!stale)
            {
                throw new AlreadyExistsException("learner-email", "email",
                    "This mailbox is already registered to another learner (addresses are compared without case, and dots where the provider ignores them). If it is yours, contact support.");
            }
            if (await store.TakeOverEmailAsync(canonical, claim, learnerId, now)) return;
        }
        throw new ConcurrentChangeException("The address changed hands while registering; try again.");
    }

    public override async Task<GetLearnerResponse> GetLearner(GetLearnerRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var learnerId = caller.LearnerData(request.LearnerId, LearnerDataReaders.Services);
        var learner = await store.GetLearnerAsync(learnerId) ?? throw new ResourceNotFoundException("learner", learnerId);
        return new GetLearnerResponse { Learner = ToProto(learner) };
    }

    private static Learner ToProto(StoredLearner l) => new()
    {
        LearnerId = l.LearnerId,
        Email = l.Email,
        CanonicalEmail = l.CanonicalEmail,
        DisplayName = l.DisplayName,
        RegisteredAt = Timestamp.FromDateTimeOffset(l.RegisteredAt),
    };

    // ---------------- exam configuration ----------------

    public override async Task<ConfigureExamVerificationResponse> ConfigureExamVerification(ConfigureExamVerificationRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        RequestIds.RequireId("exam_id", request.ExamId);
        RequestIds.RequireId("course_id", request.CourseId);
        caller.RequireStaffOf(request.CourseId);
        var existing = await store.GetExamAsync(request.ExamId);
        if (existing is not null && existing.CourseId != request.CourseId && !caller.IsService)
        {
            throw new AccessDeniedException("This exam belongs to another course.");
        }
        await store.SetExamAsync(request.ExamId, new ExamRequirements(request.CourseId, request.RoomScanRequired));
        var response = new ConfigureExamVerificationResponse();
        response.Steps.AddRange(VerificationFlow.Steps(request.RoomScanRequired));
        return response;
    }

    private async Task<IReadOnlyList<VerificationStep>> StepsForAsync(string examId) =>
        VerificationFlow.Steps((await store.GetExamAsync(examId))?.RoomScanRequired == true);

    // ---------------- verification steps ----------------

    public override async Task<CompleteVerificationStepResponse> CompleteVerificationStep(CompleteVerificationStepRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        caller.RequireLearner();
        var learnerId = caller.Subject;
        RequestIds.RequireRequestId(request.RequestId);
        RequestIds.RequireId("exam_id", request.ExamId);
        if (request.Step is VerificationStep.IdDocumentPhoto or VerificationStep.FacePhoto)
        {
            throw new InvalidRequestException("step", "Photo steps are completed by UploadPhoto, with the photo.");
        }
        if (request.Step is not (VerificationStep.SystemCheck or VerificationStep.MicrophoneTest or VerificationStep.RoomScan))
        {
            throw new InvalidRequestException("step", "Name the step: system check, microphone test or room scan.");
        }
        var details = request.Details ?? string.Empty;
        if (details.Length > 500 || details.Any(char.IsControl))
        {
            throw new InvalidRequestException("details", "At most 500 characters, without control characters.");
        }
        if (await store.GetIdempotentAsync(learnerId, "step", request.RequestId) is { } previous)
        {
            return CompleteVerificationStepResponse.Parser.ParseFrom(previous);
        }
        var steps = await StepsForAsync(request.ExamId);
        for (var attempt = 0; attempt < MaxCommitAttempts; attempt++)
        {
            var (record, raw) = await store.LoadVerificationAsync(learnerId, request.ExamId);
            VerificationFlow.RequireInOrder(record, steps, request.Step, request.ExamId);
            var now = clock.GetUtcNow();
            record.Set(request.Step, request.Passed
                ? new StepRecord { State = StepState.Done, CompletedAt = now, Details = details }
                : new StepRecord { State = StepState.Pending, Details = details, Note = "The last check did not pass" + (details.Length > 0 ? $" ({details})" : string.Empty) + ": fix it and run it again." });
            var response = new CompleteVerificationStepResponse { Status = VerificationFlow.Status(learnerId, request.ExamId, record, steps) };
            if (await store.TryCommitVerificationAsync(learnerId, request.ExamId, raw, record, _photos.Retention, null, [],
                    ("step", request.RequestId, response.ToByteArray(), _identity.IdempotencyWindow)))
            {
                return response;
            }
        }
        throw new ConcurrentChangeException("The verification changed concurrently; try again.");
    }

    public override async Task<GetVerificationStatusResponse> GetVerificationStatus(GetVerificationStatusRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var learnerId = caller.LearnerData(request.LearnerId, LearnerDataReaders.Services);
        RequestIds.RequireId("exam_id", request.ExamId);
        var steps = await StepsForAsync(request.ExamId);
        var (record, _) = await store.LoadVerificationAsync(learnerId, request.ExamId);
        return new GetVerificationStatusResponse { Status = VerificationFlow.Status(learnerId, request.ExamId, record, steps) };
    }

    // ---------------- photos ----------------

    public override async Task<UploadPhotoResponse> UploadPhoto(IAsyncStreamReader<UploadPhotoRequest> requestStream, ServerCallContext context)
    {
        var caller = Caller.From(context);
        caller.RequireLearner();
        var learnerId = caller.Subject;
        var ct = context.CancellationToken;
        if (!await requestStream.MoveNext(ct) || requestStream.Current.PartCase != UploadPhotoRequest.PartOneofCase.Metadata)
        {
            throw new InvalidRequestException("metadata", "The first message of an upload carries the photo's metadata (request_id, exam_id, kind, declared_size).");
        }
        var metadata = requestStream.Current.Metadata;
        RequestIds.RequireRequestId(metadata.RequestId);
        RequestIds.RequireId("metadata.exam_id", metadata.ExamId);
        if (metadata.Kind is not (PhotoKind.IdDocument or PhotoKind.Face))
        {
            throw new InvalidRequestException("metadata.kind", "Say which photo this is: PHOTO_KIND_ID_DOCUMENT or PHOTO_KIND_FACE.");
        }
        if (metadata.DeclaredSize < 0)
        {
            throw new InvalidRequestException("metadata.declared_size", "The declared size cannot be negative.");
        }
        if (metadata.DeclaredSize > _photos.MaxUploadBytes)
        {
            throw TooLarge();
        }
        if (await store.GetIdempotentAsync(learnerId, "photo", metadata.RequestId) is { } previous)
        {
            return UploadPhotoResponse.Parser.ParseFrom(previous);
        }
        var step = metadata.Kind == PhotoKind.IdDocument ? VerificationStep.IdDocumentPhoto : VerificationStep.FacePhoto;
        var steps = await StepsForAsync(metadata.ExamId);
        // Refuse out-of-order uploads before reading the bytes.
        VerificationFlow.RequireInOrder((await store.LoadVerificationAsync(learnerId, metadata.ExamId)).Record, steps, step, metadata.ExamId);

        // The bytes go into a pooled buffer (a new array per upload would be a large-object allocation per photo),
        // wiped and returned as soon as the photo is inspected: nothing keeps a reference to it.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(metadata.DeclaredSize, 64 * 1024, _photos.MaxUploadBytes));
        var received = 0;
        InspectedPhoto photo;
        try
        {
            while (await requestStream.MoveNext(ct))
            {
                var part = requestStream.Current;
                if (part.PartCase != UploadPhotoRequest.PartOneofCase.Chunk)
                {
                    throw new InvalidRequestException("metadata", "The metadata comes once, first; then only chunks.");
                }
                var chunk = part.Chunk.Span;
                if (received + (long)chunk.Length > _photos.MaxUploadBytes)
                {
                    throw TooLarge();
                }
                if (received + chunk.Length > buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(_photos.MaxUploadBytes, Math.Max(2L * buffer.Length, received + chunk.Length)));
                    buffer.AsSpan(0, received).CopyTo(larger);
                    ReturnUploadBuffer(buffer, received);
                    buffer = larger;
                }
                chunk.CopyTo(buffer.AsSpan(received));
                received += chunk.Length;
            }
            if (received == 0)
            {
                throw new InvalidRequestException("chunk", "No image bytes were sent.");
            }
            if (metadata.DeclaredSize > 0 && received != metadata.DeclaredSize)
            {
                throw new InvalidRequestException("chunk", $"Received {received} bytes but {metadata.DeclaredSize} were declared: the upload was cut. Send the photo again.");
            }
            try
            {
                photo = await inspector.InspectAsync(buffer.AsMemory(0, received), ct);
            }
            catch (FileRefusedException ex)
            {
                LogFileRefused(logger, learnerId, metadata.Kind, ex.Refusal);
                throw new InvalidRequestException("chunk", ex.Message);
            }
        }
        finally
        {
            ReturnUploadBuffer(buffer, received);
        }

        for (var attempt = 0; attempt < MaxCommitAttempts; attempt++)
        {
            var (record, raw) = await store.LoadVerificationAsync(learnerId, metadata.ExamId);
            VerificationFlow.RequireInOrder(record, steps, step, metadata.ExamId);
            var outcome = Decide(learnerId, metadata, step, steps, record, photo);
            var bytes = outcome.Response.ToByteArray();
            if (outcome.RecordChanged)
            {
                if (!await store.TryCommitVerificationAsync(learnerId, metadata.ExamId, raw, record, _photos.Retention,
                        outcome.NewPhoto, outcome.DeletePhotoIds, ("photo", metadata.RequestId, bytes, _identity.IdempotencyWindow)))
                {
                    continue;
                }
            }
            else
            {
                await store.SaveIdempotentAsync(learnerId, "photo", metadata.RequestId, bytes, _identity.IdempotencyWindow);
            }
            LogPhoto(logger, learnerId, metadata.Kind, outcome.Response.Verdict, string.Join(",", outcome.Response.Problems.Select(p => p.Code)));
            return outcome.Response;
        }
        throw new ConcurrentChangeException("The verification changed concurrently; upload the photo again.");
    }

    /// <summary>Wipes the received photo bytes and gives the buffer back to the pool.</summary>
    private static void ReturnUploadBuffer(byte[] buffer, int used)
    {
        buffer.AsSpan(0, used).Clear();
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private sealed record UploadOutcome(UploadPhotoResponse Response, bool RecordChanged, NewPhoto? NewPhoto, IReadOnlyList<string> DeletePhotoIds);

    /// <summary>Applies an inspected photo to the record (mutating it) and says what to store.</summary>
    private UploadOutcome Decide(string learnerId, PhotoMetadata metadata, VerificationStep step, IReadOnlyList<VerificationStep> steps, VerificationRecord record, InspectedPhoto photo)
    {
        var response = new UploadPhotoResponse();
        var now = clock.GetUtcNow();
        if (!photo.Accepted)
        {
            response.Verdict = PhotoVerdict.Rejected;
            response.Problems.AddRange(photo.Problems);
            response.Message = "The photo was not accepted: " + string.Join(" ", photo.Problems.Select(p => p.Message));
            response.Status = VerificationFlow.Status(learnerId, metadata.ExamId, record, steps);
            return new UploadOutcome(response, false, null, []);
        }
        var limit = _photos.NearDuplicateMaxDistance;
        if (step == VerificationStep.IdDocumentPhoto)
        {
            var faces = record.KnownFaceHashes.ToList();
            if (record.Get(VerificationStep.FacePhoto).IsDone && record.FacePhotoId is not null) faces.Add(record.FacePhotoHash);
            if (faces.Any(h => PerceptualHash.Distance(h, photo.PerceptualHash) <= limit))
            {
                response.Verdict = PhotoVerdict.Rejected;
                response.Problems.Add(new PhotoProblem
                {
                    Code = PhotoProblemCode.IdPhotoShowsFace,
                    Message = "This is the same picture as your face. At this step, photograph your ID document (card or passport), not your face.",
                });
                response.Message = "The photo was not accepted: it shows your face, not your ID document. " + VerificationFlow.IdStepInstructions;
                response.Status = VerificationFlow.Status(learnerId, metadata.ExamId, record, steps);
                return new UploadOutcome(response, false, null, []);
            }
            var photoId = NewPhotoId();
            var delete = record.IdPhotoId is { } old ? new[] { old } : [];
            record.IdPhotoId = photoId;
            record.IdPhotoHash = photo.PerceptualHash;
            record.IdPhotoTakenAt = now;
            record.Set(step, new StepRecord { State = StepState.Done, CompletedAt = now });
            response.Verdict = PhotoVerdict.Accepted;
            response.PhotoId = photoId;
            response.Status = VerificationFlow.Status(learnerId, metadata.ExamId, record, steps);
            response.Message = "Your ID-document photo is accepted. " + response.Status.Instructions;
            return new UploadOutcome(response, true, Seal(learnerId, metadata, photoId, photo, now), delete);
        }

        // Face photo: the classic mistake is an ID step that photographed the face.
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
            response.Verdict = PhotoVerdict.Rejected;
            response.Problems.Add(new PhotoProblem
            {
                Code = PhotoProblemCode.IdPhotoShowsFace,
                Message = "Your ID-document photo is the same picture as this face photo: it showed your face, not your document. " +
                          "Photograph your ID document (card or passport) first, then your face again.",
            });
            response.Status = VerificationFlow.Status(learnerId, metadata.ExamId, record, steps);
            response.Message = "The ID-document step is open again: your ID photo showed your face. " + VerificationFlow.IdStepInstructions;
            return new UploadOutcome(response, true, null, delete);
        }
        {
            var photoId = NewPhotoId();
            var delete = record.FacePhotoId is { } old ? new[] { old } : [];
            record.FacePhotoId = photoId;
            record.FacePhotoHash = photo.PerceptualHash;
            record.FacePhotoTakenAt = now;
            record.Set(step, new StepRecord { State = StepState.Done, CompletedAt = now });
            response.Verdict = PhotoVerdict.Accepted;
            response.PhotoId = photoId;
            response.Status = VerificationFlow.Status(learnerId, metadata.ExamId, record, steps);
            response.Message = "Your face photo is accepted. " + response.Status.Instructions;
            return new UploadOutcome(response, true, Seal(learnerId, metadata, photoId, photo, now), delete);
        }
    }

    private NewPhoto Seal(string learnerId, PhotoMetadata metadata, string photoId, InspectedPhoto photo, DateTimeOffset now)
    {
        var kind = metadata.Kind.ToString();
        var blob = cipher.Encrypt(photo.CleanJpeg, AssociatedData(learnerId, metadata.ExamId, kind, photoId));
        return new NewPhoto(photoId, blob, metadata.ExamId, kind, now, now + _photos.Retention, cipher.ActiveKeyId);
    }

    internal static string AssociatedData(string learnerId, string examId, string kind, string photoId) =>
        $"vigil-photo|{learnerId}|{examId}|{kind}|{photoId}";

    private static string NewPhotoId() => "ph_" + Guid.CreateVersion7().ToString("N");

    public override async Task<GetPhotoResponse> GetPhoto(GetPhotoRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var learnerId = caller.LearnerData(request.LearnerId, LearnerDataReaders.Services);
        RequestIds.RequireId("exam_id", request.ExamId);
        if (request.Kind is not (PhotoKind.IdDocument or PhotoKind.Face))
        {
            throw new InvalidRequestException("kind", "Say which photo: PHOTO_KIND_ID_DOCUMENT or PHOTO_KIND_FACE.");
        }
        var (record, _) = await store.LoadVerificationAsync(learnerId, request.ExamId);
        var photoId = request.Kind == PhotoKind.IdDocument ? record.IdPhotoId : record.FacePhotoId;
        var stored = photoId is null ? null : await store.GetPhotoAsync(learnerId, photoId);
        if (stored is null)
        {
            throw new ResourceNotFoundException("photo", $"{request.ExamId}/{request.Kind}");
        }
        byte[] data;
        try
        {
            data = cipher.Decrypt(stored.EncryptedData, AssociatedData(learnerId, stored.ExamId, stored.Kind, stored.PhotoId));
        }
        catch (CryptographicException)
        {
            LogUndecryptable(logger, learnerId, PhotoCipher.KeyIdOf(stored.EncryptedData));
            throw new StoredDataUnreadableException("The stored photo cannot be decrypted with the configured keys.");
        }
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

    // ---------------- erasure ----------------

    public override async Task<EraseLearnerDataResponse> EraseLearnerData(EraseLearnerDataRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var learnerId = caller.LearnerData(request.LearnerId, LearnerDataReaders.Ops);
        RequestIds.RequireRequestId(request.RequestId);
        if (await store.GetIdempotentAsync(learnerId, "erase", request.RequestId) is { } previous)
        {
            return EraseLearnerDataResponse.Parser.ParseFrom(previous);
        }
        var counts = await store.EraseAsync(learnerId);
        var response = new EraseLearnerDataResponse
        {
            PhotosErased = counts.Photos,
            VerificationsErased = counts.Verifications,
            LearnerErased = counts.Learner,
        };
        await store.SaveIdempotentAsync(learnerId, "erase", request.RequestId, response.ToByteArray(), _identity.IdempotencyWindow);
        LogErased(logger, learnerId, counts.Photos, counts.Verifications, counts.Learner);
        return response;
    }

    // ---------------- helpers ----------------

    private QuotaExceededException TooLarge() => new QuotaExceededException("photo",
        $"The photo is larger than {_photos.MaxUploadBytes} bytes: send a smaller photo (an ordinary camera JPEG is a few MB).");

    [LoggerMessage(Level = LogLevel.Information, Message = "Learner {LearnerId} registered an email address")]
    private static partial void LogRegistered(ILogger logger, string learnerId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Photo upload refused as a file for learner {LearnerId}, kind {Kind}: {Refusal}")]
    private static partial void LogFileRefused(ILogger logger, string learnerId, PhotoKind kind, FileRefusal refusal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Photo for learner {LearnerId}, kind {Kind}: {Verdict} {Problems}")]
    private static partial void LogPhoto(ILogger logger, string learnerId, PhotoKind kind, PhotoVerdict verdict, string problems);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stored photo of learner {LearnerId} cannot be decrypted (key id {KeyId})")]
    private static partial void LogUndecryptable(ILogger logger, string learnerId, string keyId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Erased learner {LearnerId}: {Photos} photos, {Verifications} verifications, record {LearnerErased}")]
    private static partial void LogErased(ILogger logger, string learnerId, int photos, int verifications, bool learnerErased);
}
