using Grpc.Core;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Identity.V1;
using Vigil.ServiceDefaults.Errors;
using Vigil.Session.Options;

namespace Vigil.Session.Identity;

/// <summary>
/// The calls to the identity service, with the service token. Any failure to get an answer becomes
/// Unavailable: never a false "may start".
/// </summary>
internal sealed partial class IdentityGateway(
    IdentityService.IdentityServiceClient client,
    IOptions<SessionServiceOptions> options,
    ILogger<IdentityGateway> logger)
{
    private DateTime Deadline => DateTime.UtcNow + options.Value.IdentityCallTimeout;

    /// <summary>
    /// Whether the learner may start the exam (a registered, accepted email and a complete verification), with identity's
    /// record of the learner and the accepted photos, pinned to <paramref name="sessionId"/>.
    /// </summary>
    public async Task<AdmitToExamResponse> AdmitAsync(string requestId, string learnerId, string examId, string sessionId, CancellationToken ct)
    {
        var response = await CallAsync("AdmitToExam", () =>
            client.AdmitToExamAsync(new AdmitToExamRequest { RequestId = requestId, LearnerId = learnerId, ExamId = examId, SessionId = sessionId }, deadline: Deadline, cancellationToken: ct).ResponseAsync);
        if (response.Verification is null || (response.Admitted && response.Learner is null))
        {
            throw new ServiceUnavailableException("The identity service gave an incomplete answer on the start; retry shortly.");
        }
        return response;
    }

    /// <summary>Tells identity what an exam's verification phase asks for.</summary>
    public Task ConfigureExamAsync(string requestId, string examId, string courseId, bool roomScanRequired, CancellationToken ct) =>
        CallAsync("ConfigureExamVerification", () => client.ConfigureExamVerificationAsync(new ConfigureExamVerificationRequest
        {
            RequestId = requestId,
            ExamId = examId,
            CourseId = courseId,
            RoomScanRequired = roomScanRequired,
        }, deadline: Deadline, cancellationToken: ct).ResponseAsync);

    /// <summary>A verification photo (the one pinned by id when <paramref name="photoId"/> is given), or null when there is none.</summary>
    public async Task<GetPhotoResponse?> GetPhotoAsync(string learnerId, string examId, PhotoKind kind, string? photoId, CancellationToken ct)
    {
        try
        {
            return await client.GetPhotoAsync(new GetPhotoRequest { LearnerId = learnerId, ExamId = examId, Kind = kind, PhotoId = photoId ?? string.Empty }, deadline: Deadline, cancellationToken: ct);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
        catch (RpcException ex)
        {
            LogUnavailable(logger, "GetPhoto", ex.StatusCode, ex);
            throw new ServiceUnavailableException("The identity service is unavailable. Retry shortly.");
        }
    }

    private async Task<T> CallAsync<T>(string method, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException ex)
        {
            LogUnavailable(logger, method, ex.StatusCode, ex);
            throw new ServiceUnavailableException("The identity service is unavailable; nothing was changed. Retry shortly.");
        }
        catch (HttpRequestException ex)
        {
            LogUnavailable(logger, method, StatusCode.Unavailable, ex);
            throw new ServiceUnavailableException("The identity service is unavailable; nothing was changed. Retry shortly.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Identity call {Method} failed with {StatusCode}")]
    private static partial void LogUnavailable(ILogger logger, string method, StatusCode statusCode, Exception exception);
}
