using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Vigil.Contracts.Session.V1;
using Vigil.Session.Answers;
using Vigil.Session.Tests.Infrastructure;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Session.Tests.Sessions;

/// <summary>The session service as a real process, killed with SIGKILL right after acknowledging saves, and drained with SIGTERM.</summary>
[Collection(SessionCollection.Name)]
public sealed class ProcessKillTests(SessionFixture f, ITestOutputHelper output)
{
    private const int Questions = 120;

    private static GrpcChannel Channel(ServiceProcess p, string token) => TestChannel.Create(p.GrpcAddress, token);

    [Fact]
    public async Task Killing_the_process_right_after_acknowledgements_loses_no_acknowledged_save()
    {
        var prefix = "test-kill-" + Guid.NewGuid().ToString("N")[..8] + ":";
        await using var identity = await ServiceProcess.StartAsync("services/identity/Vigil.Identity", new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = TestEnvironment.Redis,
            ["RabbitMq:Uri"] = TestEnvironment.RabbitMq("session"),
        });
        var settings = new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = TestEnvironment.Redis,
            ["RabbitMq:Uri"] = TestEnvironment.RabbitMq("session"),
            ["Services:Identity"] = identity.GrpcAddress.ToString(),
            ["Redis:KeyPrefix"] = prefix,
            ["Hosting:DrainDelay"] = "00:00:00.200",
        };
        var first = await ServiceProcess.StartAsync("services/session/Vigil.Session", settings);

        var course = SessionFixture.NewCourse();
        var definition = ExamSamples.Build(course);
        definition.Questions.Clear();
        for (var i = 0; i < Questions; i++)
        {
            definition.Questions.Add(new Question { QuestionId = $"n{i}", Kind = QuestionKind.Numeric, Prompt = $"Number {i}", Points = 1 });
        }
        definition.PassMark = 1;
        var exam = (await new ExamService.ExamServiceClient(Channel(first, TestTokens.Staff("staff-1", course)))
            .CreateExamAsync(new CreateExamRequest { RequestId = "k", Exam = definition })).Exam;

        var learnerId = "learner-" + Guid.NewGuid().ToString("N")[..10];
        var token = TestTokens.Learner(learnerId);
        var learner = new TestLearner(learnerId, "Kill Test", token, f);
        var identityHost = IdentityTestHost.ForChannel(t => Channel(identity, t!));
        await identityHost.RegisterAsync(learner);
        await identityHost.CompleteVerificationAsync(learner, exam.ExamId, withIdPhoto: true);

        var sessions = new SessionService.SessionServiceClient(Channel(first, token));
        var session = (await sessions.StartSessionAsync(new StartSessionRequest { RequestId = "s", ExamId = exam.ExamId })).Session;

        // Pipeline every save, count the acknowledgements as they come, and SIGKILL the process as soon as half are in.
        var acked = new ConcurrentDictionary<string, (long Sequence, string Digest)>();
        using var call = sessions.StreamExam();
        await call.RequestStream.WriteAsync(new StreamExamRequest { Open = new OpenStream { SessionId = session.SessionId } });
        Assert.True(await call.ResponseStream.MoveNext());
        var killed = new TaskCompletionSource();
        var reader = Task.Run(async () =>
        {
            try
            {
                while (await call.ResponseStream.MoveNext())
                {
                    var m = call.ResponseStream.Current;
                    if (m.MessageCase != StreamExamResponse.MessageOneofCase.SaveAck) continue;
                    acked[m.SaveAck.QuestionId] = (m.SaveAck.Sequence, m.SaveAck.AnswerDigest);
                    if (acked.Count == Questions / 2)
                    {
                        await first.KillAsync();
                        killed.TrySetResult();
                    }
                }
            }
            catch (RpcException)
            {
                // The process died under the stream.
            }
        });
        try
        {
            for (var i = 0; i < Questions; i++)
            {
                await call.RequestStream.WriteAsync(new StreamExamRequest { Save = new AnswerSave { Sequence = i + 1, QuestionId = $"n{i}", Answer = ExamSamples.Number(i * 1.5) } });
            }
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
        {
            // Writes fail once the process is gone.
        }
        await killed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await reader.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(first.HasExited);
        var acknowledged = acked.ToArray();

        // Another instance, same Redis: every acknowledged save is there.
        await using var second = await ServiceProcess.StartAsync("services/session/Vigil.Session", settings);
        var read = await new SessionService.SessionServiceClient(Channel(second, token)).GetSessionAsync(new GetSessionRequest { SessionId = session.SessionId });
        var stored = read.SavedAnswers.ToDictionary(a => a.QuestionId);
        var found = acknowledged.Count(a => stored.TryGetValue(a.Key, out var s) && s.Sequence == a.Value.Sequence && s.AnswerDigest == a.Value.Digest
            && AnswerRules.Digest(s.Answer) == a.Value.Digest);
        output.WriteLine($"saves acknowledged before SIGKILL: {acknowledged.Length}, saves found after restart: {found} (stored in all: {stored.Count} of {Questions} sent)");
        Console.WriteLine($"[session kill test] saves acknowledged: {acknowledged.Length}, saves found: {found}");
        Assert.True(acknowledged.Length >= Questions / 2);
        Assert.Equal(acknowledged.Length, found);
        Assert.True(read.Session.LastAckedSequence >= acknowledged.Max(a => a.Value.Sequence));

        // Draining (SIGTERM): an open stream is told to reconnect, and the client resumes on another instance.
        using var drained = new SessionService.SessionServiceClient(Channel(second, token)).StreamExam();
        await drained.RequestStream.WriteAsync(new StreamExamRequest { Open = new OpenStream { SessionId = session.SessionId, LastAckedSequence = read.Session.LastAckedSequence } });
        Assert.True(await drained.ResponseStream.MoveNext());
        Assert.Equal(read.Session.LastAckedSequence, drained.ResponseStream.Current.Opened.LastAckedSequence);
        var terminating = second.TerminateAsync(TimeSpan.FromSeconds(30));
        Reconnect? reconnect = null;
        while (reconnect is null && await drained.ResponseStream.MoveNext())
        {
            if (drained.ResponseStream.Current.MessageCase == StreamExamResponse.MessageOneofCase.Reconnect) reconnect = drained.ResponseStream.Current.Reconnect;
        }
        Assert.NotNull(reconnect);
        Assert.True(reconnect.RetryAfter.ToTimeSpan() > TimeSpan.Zero);
        Assert.Equal(0, await terminating);
    }
}
