using Google.Protobuf;
using Grpc.Core;
using Vigil.Contracts.Identity.V1;

namespace Vigil.Testing.Images;

/// <summary>
/// Walks a learner through an exam's verification phase with the real identity RPCs and the test photos:
/// system check, microphone test, ID-document photo, face photo (and the room scan when asked).
/// For the session and gateway tests that need a verified learner.
/// </summary>
public static class TestVerification
{
    /// <summary>Completes the verification; <paramref name="client"/> must call as the learner. Returns the final status.</summary>
    public static async Task<VerificationStatus> CompleteAsync(IdentityService.IdentityServiceClient client, string examId, bool roomScan = false, int seed = 0, CancellationToken cancellationToken = default)
    {
        await client.CompleteVerificationStepAsync(new CompleteVerificationStepRequest
        {
            RequestId = Guid.NewGuid().ToString("N"), ExamId = examId, Step = VerificationStep.SystemCheck, Passed = true, Details = "test system check",
        }, cancellationToken: cancellationToken);
        await client.CompleteVerificationStepAsync(new CompleteVerificationStepRequest
        {
            RequestId = Guid.NewGuid().ToString("N"), ExamId = examId, Step = VerificationStep.MicrophoneTest, Passed = true, Details = "mic level -23 dBFS",
        }, cancellationToken: cancellationToken);
        var id = await UploadAsync(client, examId, PhotoKind.IdDocument, TestImages.IdDocumentJpeg(seed), cancellationToken: cancellationToken);
        if (id.Verdict != PhotoVerdict.Accepted) throw new InvalidOperationException("ID photo rejected: " + id.Message);
        var face = await UploadAsync(client, examId, PhotoKind.Face, TestImages.FaceJpeg(seed), cancellationToken: cancellationToken);
        if (face.Verdict != PhotoVerdict.Accepted) throw new InvalidOperationException("Face photo rejected: " + face.Message);
        if (!roomScan) return face.Status;
        var scan = await client.CompleteVerificationStepAsync(new CompleteVerificationStepRequest
        {
            RequestId = Guid.NewGuid().ToString("N"), ExamId = examId, Step = VerificationStep.RoomScan, Passed = true, Details = "test room scan",
        }, cancellationToken: cancellationToken);
        return scan.Status;
    }

    /// <summary>Uploads a photo as a client stream: metadata, then chunks of <paramref name="chunkSize"/> bytes.</summary>
    public static async Task<UploadPhotoResponse> UploadAsync(
        IdentityService.IdentityServiceClient client, string examId, PhotoKind kind, byte[] data,
        string? requestId = null, int chunkSize = 256 * 1024, long? declaredSize = null, CancellationToken cancellationToken = default)
    {
        using var call = client.UploadPhoto(cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(new UploadPhotoRequest
        {
            Metadata = new PhotoMetadata
            {
                RequestId = requestId ?? Guid.NewGuid().ToString("N"),
                ExamId = examId,
                Kind = kind,
                DeclaredSize = declaredSize ?? data.Length,
            },
        }, cancellationToken);
        try
        {
            for (var offset = 0; offset < data.Length; offset += chunkSize)
            {
                var n = Math.Min(chunkSize, data.Length - offset);
                await call.RequestStream.WriteAsync(new UploadPhotoRequest { Chunk = ByteString.CopyFrom(data, offset, n) }, cancellationToken);
            }
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The server answered early (a refusal): its status is in the response below.
        }
        catch (InvalidOperationException)
        {
            // The call already completed on the server side.
        }
        return await call.ResponseAsync;
    }
}
