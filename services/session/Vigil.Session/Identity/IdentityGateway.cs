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

    /// <summary>The learner's verification status for an exam.</summary>
    public async Task<VerificationStatus> GetVerificationStatusAsync(string learnerId, string examId, CancellationToken ct)
    {
        var response = await CallAsync("GetVerificationStatus", () =>
            client.GetVerificationStatusAsync(new GetVerificationStatusRequest { LearnerId = learnerId, ExamId = examId }, deadline: Deadline, cancellationToken: ct).ResponseAsync);
        return response.Status ?? throw new ServiceUnavailableException("The identity service gave no verification status; retry shortly.");
    }

    /// <summary>The learner's registered name, or null when the learner is not registered.</summary>
    public async Task<string?> GetLearnerNameAsync(string learnerId, CancellationToken ct)
    {
        try
        {
            var response = await client.GetLearnerAsync(new GetLearnerRequest { LearnerId = learnerId }, deadline: Deadline, cancellationToken: ct);
            return string.IsNullOrWhiteSpace(response.Learner?.DisplayName) ? null : response.Learner.DisplayName;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.Unimplemented)
        {
            return null;
        }
        catch (RpcException ex)
        {
            LogUnavailable(logger, "GetLearner", ex.StatusCode, ex);
            throw new ServiceUnavailableException("The identity service is unavailable; nothing was changed. Retry shortly.");
        }
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

    /// <summary>A verification photo, or null when there is none.</summary>
    public async Task<GetPhotoResponse?> GetPhotoAsync(string learnerId, string examId, PhotoKind kind, CancellationToken ct)
    {
        try
        {
            return await client.GetPhotoAsync(new GetPhotoRequest { LearnerId = learnerId, ExamId = examId, Kind = kind }, deadline: Deadline, cancellationToken: ct);
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
