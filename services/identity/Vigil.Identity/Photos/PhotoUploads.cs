using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Grpc;
using Vigil.Identity.Storage;
using Vigil.Identity.Verification;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.Identity.Photos;

/// <summary>
/// UploadPhoto: the learner's ID-document photo, then their face, in chunks; inspected, judged against the
/// verification (<see cref="PhotoDecisions"/>), sealed and stored with the record in one commit.
/// </summary>
internal sealed partial class PhotoUploads(
    IdentityStore store,
    VerificationSteps verification,
    PhotoInspector inspector,
    StoredPhotos photos,
    IOptions<PhotoOptions> photoOptions,
    IOptions<IdentityOptions> identityOptions,
    TimeProvider clock,
    ILogger<PhotoUploads> logger)
{
    private PhotoOptions Options => photoOptions.Value;

    /// <summary>Reads the upload (metadata first, then chunks) and answers with the verdict; idempotent by request_id.</summary>
    public async Task<UploadPhotoResponse> UploadAsync(Caller caller, IAsyncStreamReader<UploadPhotoRequest> requestStream, CancellationToken ct)
    {
        caller.RequireLearner();
        var learnerId = caller.Subject;
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
        if (metadata.DeclaredSize > Options.MaxUploadBytes)
        {
            throw TooLarge();
        }
        if (await store.GetIdempotentAsync(learnerId, "photo", metadata.RequestId) is { } previous)
        {
            return UploadPhotoResponse.Parser.ParseFrom(previous);
        }
        var step = metadata.Kind == PhotoKind.IdDocument ? VerificationStep.IdDocumentPhoto : VerificationStep.FacePhoto;
        var steps = await verification.StepsForAsync(metadata.ExamId);
        // Refuse out-of-order uploads before reading the bytes.
        VerificationFlow.RequireInOrder((await store.LoadVerificationAsync(learnerId, metadata.ExamId)).Record, steps, step, metadata.ExamId);

        var photo = await ReceiveAndInspectAsync(learnerId, metadata, requestStream, ct);
        for (var attempt = 0; attempt < VerificationSteps.MaxCommitAttempts; attempt++)
        {
            var (record, raw) = await store.LoadVerificationAsync(learnerId, metadata.ExamId);
            VerificationFlow.RequireInOrder(record, steps, step, metadata.ExamId);
            var now = clock.GetUtcNow();
            var decision = PhotoDecisions.Apply(learnerId, metadata.ExamId, steps, record, step, photo, Options.NearDuplicateMaxDistance, now, StoredPhotos.NewPhotoId());
            var response = decision.Response;
            var bytes = response.ToByteArray();
            if (decision.RecordChanged)
            {
                var sealedPhoto = decision.NewPhotoId is { } photoId ? photos.Seal(learnerId, metadata.ExamId, metadata.Kind, photoId, photo, now) : null;
                if (!await store.TryCommitVerificationAsync(learnerId, metadata.ExamId, raw, record, Options.Retention,
                        sealedPhoto, decision.DeletePhotoIds, ("photo", metadata.RequestId, bytes, identityOptions.Value.IdempotencyWindow)))
                {
                    continue;
                }
            }
            else
            {
                await store.SaveIdempotentAsync(learnerId, "photo", metadata.RequestId, bytes, identityOptions.Value.IdempotencyWindow);
            }
            LogPhoto(logger, learnerId, metadata.Kind, response.Verdict, string.Join(",", response.Problems.Select(p => p.Code)));
            return response;
        }
        throw new ConcurrentChangeException("The verification changed concurrently; upload the photo again.");
    }

    /// <summary>
    /// Reads the chunks into a pooled buffer (a new array per upload would be a large-object allocation per
    /// photo) and inspects them; the buffer is wiped and returned as soon as the photo is inspected.
    /// </summary>
    private async Task<InspectedPhoto> ReceiveAndInspectAsync(string learnerId, PhotoMetadata metadata, IAsyncStreamReader<UploadPhotoRequest> requestStream, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(metadata.DeclaredSize, 64 * 1024, Options.MaxUploadBytes));
        var received = 0;
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
                if (received + (long)chunk.Length > Options.MaxUploadBytes)
                {
                    throw TooLarge();
                }
                if (received + chunk.Length > buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Options.MaxUploadBytes, Math.Max(2L * buffer.Length, received + chunk.Length)));
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
                return await inspector.InspectAsync(buffer.AsMemory(0, received), ct);
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
    }

    /// <summary>Wipes the received photo bytes and gives the buffer back to the pool.</summary>
    private static void ReturnUploadBuffer(byte[] buffer, int used)
    {
        buffer.AsSpan(0, used).Clear();
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private QuotaExceededException TooLarge() => new("photo",
        $"The photo is larger than {Options.MaxUploadBytes} bytes: send a smaller photo (an ordinary camera JPEG is a few MB).");

    [LoggerMessage(Level = LogLevel.Information, Message = "Photo upload refused as a file for learner {LearnerId}, kind {Kind}: {Refusal}")]
    private static partial void LogFileRefused(ILogger logger, string learnerId, PhotoKind kind, FileRefusal refusal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Photo for learner {LearnerId}, kind {Kind}: {Verdict} {Problems}")]
    private static partial void LogPhoto(ILogger logger, string learnerId, PhotoKind kind, PhotoVerdict verdict, string problems);
}
