using Vigil.Contracts.Session.V1;
using Vigil.Session.Answers;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Session.Tests.Sessions;

/// <summary>The session service as a real process, killed with SIGKILL right after acknowledging saves, and drained with SIGTERM.</summary>
[Collection(SessionCollection.Name)]
public sealed class ProcessKillTests(ITestOutputHelper output)
{
    private const int Questions = 120;

    [Fact]
    public async Task Killing_the_process_right_after_acknowledgements_loses_no_acknowledged_save()
    {
        var prefix = "test-kill-" + Guid.NewGuid().ToString("N")[..8] + ":";
        await using var stack = await ProcessStack.StartAsync(new ProcessStackOptions
        {
            RabbitMqUri = TestEnvironment.RabbitMq("session"),
            Certificate = false,
            Gateways = [],
            SessionSettings = new Dictionary<string, string?> { ["Redis:KeyPrefix"] = prefix, ["Hosting:DrainDelay"] = "00:00:00.200" },
        });
        var replica = TestChannel.Endpoint(stack.SessionAddress(0));
        using var journey = new Journey(replica, stack.Identity);
        var exam = await journey.CreateExamAsync(ExamBuilder.Numbered(SessionFixture.NewCourse(), Questions));
        var learner = await journey.VerifiedLearnerAsync(exam.ExamId);
        var session = await learner.StartAsync(exam.ExamId);

        // Pipeline every save, and SIGKILL the process as soon as half are acknowledged.
        var stream = await learner.OpenStreamAsync(session.SessionId);
        var sending = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < Questions; i++) await stream.SendSaveAsync(i + 1, $"n{i}", TestAnswers.Number(i * 1.5));
            }
            catch (Exception ex) when (ex is Grpc.Core.RpcException or InvalidOperationException or IOException)
            {
                // Writes fail once the process is gone.
            }
        });
        await stream.NextAsync(_ => stream.Acks.Count >= Questions / 2, TimeSpan.FromSeconds(30));
        await stack.Session.KillAsync();
        await stream.Ended.WaitAsync(TimeSpan.FromSeconds(30));
        await sending.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(stack.Session.HasExited);
        var acknowledged = stream.Acks.Values.ToArray();
        await stream.DisposeAsync();

        // The replica again, same Redis: every acknowledged save is there.
        await stack.StartSessionAsync(0);
        var read = await learner.Sessions().GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId });
        var stored = read.SavedAnswers.ToDictionary(a => a.QuestionId);
        var found = acknowledged.Count(a => stored.TryGetValue(a.QuestionId, out var s) && s.Sequence == a.Sequence && s.AnswerDigest == a.AnswerDigest
            && AnswerRules.Digest(s.Answer) == a.AnswerDigest);
        output.WriteLine($"saves acknowledged before SIGKILL: {acknowledged.Length}, saves found after restart: {found} (stored in all: {stored.Count} of {Questions} sent)");
        Console.WriteLine($"[session kill test] saves acknowledged: {acknowledged.Length}, saves found: {found}");
        Assert.True(acknowledged.Length >= Questions / 2);
        Assert.Equal(acknowledged.Length, found);
        Assert.True(read.Session.LastAckedSequence >= acknowledged.Max(a => a.Sequence));

        // Draining (SIGTERM): an open stream is told to reconnect, and the client resumes on another instance.
        await using var drained = await learner.OpenStreamAsync(session.SessionId, read.Session.LastAckedSequence);
        Assert.Equal(read.Session.LastAckedSequence, drained.Opened.LastAckedSequence);
        var terminating = stack.Session.TerminateAsync(TimeSpan.FromSeconds(30));
        var reconnect = (await drained.NextAsync(m => m.MessageCase == StreamExamResponse.MessageOneofCase.Reconnect, TimeSpan.FromSeconds(30))).Reconnect;
        Assert.True(reconnect.RetryAfter.ToTimeSpan() > TimeSpan.Zero);
        Assert.Equal(0, await terminating);
    }
}
