using Grpc.Core;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;

namespace Vigil.Session.Tests.Sessions;

/// <summary>
/// Who reaches a session (SessionAccess): a caller who may not reach it is refused with the very same status and
/// words whether it exists or not; NotFound goes only to a Vigil service, which may reach any session.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class SessionAccessTests(SessionFixture f)
{
    private static string Missing() => "ses-" + Guid.NewGuid().ToString("N");

    private static async Task<RpcException> RefusedAsync(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);

    private static void SameRefusal(RpcException existing, RpcException missing)
    {
        Assert.Equal(StatusCode.PermissionDenied, existing.StatusCode);
        Assert.Equal(existing.StatusCode, missing.StatusCode);
        Assert.Equal(existing.Status.Detail, missing.Status.Detail);
    }

    [Fact]
    public async Task Another_learner_cannot_tell_a_session_of_someone_else_from_one_that_does_not_exist()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var owner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await owner.StartAsync(exam.ExamId);
        var intruder = (await f.RegisteredLearnerAsync()).Sessions();

        SameRefusal(
            await RefusedAsync(() => intruder.GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId }).ResponseAsync),
            await RefusedAsync(() => intruder.GetSessionAsync(new GetSessionRequest { SessionId = Missing() }).ResponseAsync));
        SameRefusal(
            await RefusedAsync(() => intruder.SubmitFinalCheckAsync(new SubmitFinalCheckRequest { RequestId = "r1", SessionId = session.SessionId }).ResponseAsync),
            await RefusedAsync(() => intruder.SubmitFinalCheckAsync(new SubmitFinalCheckRequest { RequestId = "r2", SessionId = Missing() }).ResponseAsync));
        var refusal = await RefusedAsync(() => intruder.GetReceiptAsync(new GetReceiptRequest { SessionId = Missing() }).ResponseAsync);
        Assert.Equal("No session of yours has this id: a learner reaches only their own sessions.", refusal.Status.Detail);

        // The owner still reads it.
        Assert.Equal(owner.Id, (await owner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId })).Session.LearnerId);
    }

    [Fact]
    public async Task A_board_of_another_course_cannot_tell_a_session_from_one_that_does_not_exist()
    {
        var course = SessionFixture.NewCourse();
        var exam = await f.CreateExamAsync(course);
        var owner = await f.VerifiedLearnerAsync(exam.ExamId);
        var session = await owner.StartAsync(exam.ExamId);
        var otherBoard = f.Board(SessionFixture.NewCourse());

        SameRefusal(
            await RefusedAsync(() => otherBoard.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId }).ResponseAsync),
            await RefusedAsync(() => otherBoard.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = Missing() }).ResponseAsync));
        var refusal = await RefusedAsync(() => otherBoard.GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = Missing() }).ResponseAsync);
        Assert.Equal("No session of a course whose exam board you sit on has this id.", refusal.Status.Detail);
        // Its own board reads the record.
        Assert.Equal(session.SessionId, (await f.Board(course).GetSessionRecordAsync(new GetSessionRecordRequest { SessionId = session.SessionId })).Record.Session.SessionId);
    }

    [Fact]
    public async Task A_service_which_may_read_any_session_is_told_a_missing_one_is_NotFound()
    {
        var asService = new SessionService.SessionServiceClient(f.ReplicaA.Channel(TestTokens.Service()));
        await RpcAssert.ThrowsAsync(StatusCode.NotFound, () => asService.GetSessionAsync(new GetSessionRequest { SessionId = Missing() }).ResponseAsync);
    }
}
