using Google.Protobuf;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Identity.V1;
using Vigil.Identity.Grpc;
using Vigil.Identity.Storage;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;

namespace Vigil.Identity.Erasure;

/// <summary>EraseLearnerData: the learner themselves or ops erase the record, every verification and every photo.</summary>
internal sealed partial class LearnerErasure(IdentityStore store, IOptions<IdentityOptions> options, ILogger<LearnerErasure> logger)
{
    /// <summary>Erases; idempotent by request_id (the counts of the first erasure are answered again).</summary>
    public async Task<EraseLearnerDataResponse> EraseAsync(Caller caller, EraseLearnerDataRequest request)
    {
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
        await store.SaveIdempotentAsync(learnerId, "erase", request.RequestId, response.ToByteArray(), options.Value.IdempotencyWindow);
        LogErased(logger, learnerId, counts.Photos, counts.Verifications, counts.Learner);
        return response;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Erased learner {LearnerId}: {Photos} photos, {Verifications} verifications, record {LearnerErased}")]
    private static partial void LogErased(ILogger logger, string learnerId, int photos, int verifications, bool learnerErased);
}
