using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Vigil.Contracts.Session.V1;
using Vigil.ServiceDefaults.Auth;
using Vigil.ServiceDefaults.Errors;
using Vigil.ServiceDefaults.Health;
using Vigil.ServiceDefaults.Redis;
using Vigil.Session.Answers;
using Vigil.Session.Options;
using Vigil.Session.Storage;

namespace Vigil.Session.Sessions;

/// <summary>
/// The exam stream: OpenStream first, then heartbeats and saves in order. A save is acknowledged only after the
/// save script's reply (Redis has it on disk). When this replica drains, the client is told to reconnect.
/// The caller is checked once, at the start: a token expiring mid-stream does not cut an open stream.
/// The exam day degrades, never drops: a store call that times out or fails in a way that passes answers THAT
/// message with RetryLater and the stream goes on (a stream ends only when the learner leaves, the session ends or
/// the replica drains); an overloaded replica refuses new streams early with a retry hint (<see cref="ExamLoad"/>).
/// </summary>
internal sealed partial class ExamStream(
    SessionStore store,
    SessionAccess access,
    DrainState drain,
    ExamLoad load,
    TimeProvider time,
    IOptions<SessionServiceOptions> options,
    ILogger<ExamStream> logger)
{
    /// <summary>The trailer gRPC clients read as the server's retry pushback (gRFC A6), beside the status's RetryInfo.</summary>
    internal const string PushbackTrailer = "grpc-retry-pushback-ms";

    public async Task RunAsync(IAsyncStreamReader<StreamExamRequest> requests, IServerStreamWriter<StreamExamResponse> responses, ServerCallContext context)
    {
        if (!load.TryOpenStream())
        {
            // Refused before anything is read or stored: the cheapest answer an overloaded replica can give.
            var retryAfter = options.Value.OverloadRetryAfter;
            context.ResponseTrailers.Add(PushbackTrailer, ((long)retryAfter.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
            LogRefused(logger, load.OpenStreams, load.StoreCallsInFlight);
            throw new ServiceUnavailableException("This server is overloaded: the exam stream was not opened, nothing changed. Retry after the hint, with jitter.", retryAfter);
        }
        try
        {
            await RunOpenAsync(requests, responses, context);
        }
        finally
        {
            load.StreamClosed();
        }
    }

    private async Task RunOpenAsync(IAsyncStreamReader<StreamExamRequest> requests, IServerStreamWriter<StreamExamResponse> responses, ServerCallContext context)
    {
        var caller = Caller.From(context);
        using var readCancel = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, drain.StreamsMustMove);
        StreamContext? state = null;
        try
        {
            if (!await requests.MoveNext(readCancel.Token)) return;
            var first = requests.Current;
            if (first.MessageCase != StreamExamRequest.MessageOneofCase.Open || string.IsNullOrWhiteSpace(first.Open.SessionId))
            {
                throw new InvalidRequestException("open", "The first message opens the stream: OpenStream with the session id.");
            }
            var session = await access.ForItsLearnerAsync(caller, first.Open.SessionId);
            await responses.WriteAsync(new StreamExamResponse
            {
                Opened = new StreamOpened
                {
                    SessionId = session.SessionId,
                    LastAckedSequence = session.LastAcked,
                    ServerTime = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
                    Deadline = Timestamp.FromDateTimeOffset(session.Deadline),
                    State = session.State,
                },
            });
            LogOpened(logger, session.SessionId, session.LastAcked);
            state = new StreamContext(session);
            while (await requests.MoveNext(readCancel.Token))
            {
                var message = requests.Current;
                switch (message.MessageCase)
                {
                    case StreamExamRequest.MessageOneofCase.Heartbeat:
                        await OnHeartbeatAsync(state, message.Heartbeat, responses);
                        break;
                    case StreamExamRequest.MessageOneofCase.Save:
                        await OnSaveAsync(state, message.Save, responses);
                        break;
                    case StreamExamRequest.MessageOneofCase.Open:
                        throw new InvalidRequestException("open",
                            $"This stream is already open for session {state.Session.SessionId}: OpenStream comes once, first. To reopen, start a new stream.");
                    default:
                        throw new InvalidRequestException("message", "After OpenStream the client sends heartbeats and saves only.");
                }
            }
        }
        catch (OperationCanceledException) when (drain.StreamsMustMove.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            // Every acknowledged save is already durable: the client resumes elsewhere from its last acknowledgement.
            await responses.WriteAsync(new StreamExamResponse
            {
                Reconnect = new Reconnect
                {
                    Reason = "This server is shutting down; reconnect to continue, nothing acknowledged is lost.",
                    RetryAfter = Duration.FromTimeSpan(options.Value.ReconnectDelay),
                },
            });
        }
        finally
        {
            if (state is not null) await FlushHeartbeatAsync(state);
        }
    }

    /// <summary>
    /// The stream ends: its last heartbeat, perhaps kept in memory only, is written with no slack, so that the gap check
    /// of any replica counts from it. A store failure here only makes the gap check wait its slack.
    /// </summary>
    private async Task FlushHeartbeatAsync(StreamContext s)
    {
        if (s.WrittenAt is null || s.LastSeen is not { } seen) return;
        try
        {
            using var call = load.EnterStoreCall();
            await store.FlushHeartbeatAsync(s.Session.SessionId, seen);
        }
        catch (Exception ex) when (RedisFailure.IsUnavailable(ex))
        {
            LogFlushFailed(logger, s.Session.SessionId, ex.GetType().Name);
        }
    }

    private async Task OnHeartbeatAsync(StreamContext s, Heartbeat hb, IServerStreamWriter<StreamExamResponse> responses)
    {
        var now = time.GetUtcNow();
        var rules = s.Session.Exam.Rules ?? new ExamRules();
        var headphones = hb.AudioOutput == AudioOutput.Headphones && !rules.HeadphonesAllowed;
        var gap = s.Session.Exam.ConnectionLostAfter.ToTimeSpan();
        // A heartbeat that changes no signal stays in memory until the last written one is a fraction of the gap old
        // (HeartbeatWrites): the written one tells the gap check how long unwritten ones may follow it.
        var signals = HeartbeatWrites.Signals(headphones, !hb.CameraOn, !hb.ScreenShareOn, !hb.Focused, !hb.MicrophoneOn);
        var writeEvery = gap * options.Value.HeartbeatWriteFraction;
        var write = HeartbeatWrites.MustWrite(now, s.WrittenAt, s.WrittenSignals, signals, writeEvery);
        s.LastSeen = now;
        // The heartbeat-due index needs an entry no later than the last heartbeat + gap, not one per heartbeat: the
        // sweeper finds an entry that comes due while heartbeats still flow "later" and moves it itself. So the
        // stream moves it on its first heartbeat and then once per half gap (a heartbeat after a gap long enough
        // for a connection-lost incident, which removed the entry, is always past that half gap and written): one
        // Redis command per written heartbeat instead of two.
        var dueMs = (now + gap).ToUnixTimeMilliseconds();
        var updateDueIndex = write && (s.IndexedDueMs is not { } indexed || dueMs - indexed >= gap.TotalMilliseconds / 2);
        HeartbeatResult reply;
        try
        {
            using var call = load.EnterStoreCall();
            reply = write
                ? await store.HeartbeatAsync(s.Session.SessionId, now, headphones, !hb.CameraOn, !hb.ScreenShareOn, !hb.Focused, !hb.MicrophoneOn,
                    gap, updateDueIndex, writeEvery)
                : await store.ReadForHeartbeatAsync(s.Session.SessionId);
        }
        catch (Exception ex) when (RedisFailure.IsUnavailable(ex))
        {
            await RetryLaterAsync(responses, s, RetryTarget.Heartbeat, hb.Sequence, string.Empty, ex);
            return;
        }
        if (write && reply.Recorded)
        {
            s.WrittenAt = now;
            s.WrittenSignals = signals;
            if (updateDueIndex) s.IndexedDueMs = dueMs;
        }
        // A session found not running: every later heartbeat asks the store again.
        if (!reply.Recorded) s.WrittenAt = null;
        if (reply.Recorded) s.Deadline = reply.Deadline;
        var timeLeft = s.Deadline - now;
        if (timeLeft < TimeSpan.Zero || !reply.Recorded) timeLeft = TimeSpan.Zero;
        await responses.WriteAsync(new StreamExamResponse
        {
            HeartbeatReply = new HeartbeatReply
            {
                Sequence = hb.Sequence,
                ServerTime = Timestamp.FromDateTimeOffset(now),
                TimeLeft = Duration.FromTimeSpan(timeLeft),
                NextHeartbeatAfter = Duration.FromTimeSpan(HeartbeatPace.Next(
                    s.Session.Exam.HeartbeatInterval?.ToTimeSpan() ?? Exams.ExamValidator.DefaultHeartbeatInterval, gap, load.Pressure,
                    options.Value.HeartbeatPaceWidenFrom, options.Value.HeartbeatPaceMaxGapFraction)),
            },
        });
        if (!reply.Recorded) return;
        foreach (var kind in reply.Opened)
        {
            var warning = kind switch
            {
                IncidentKind.Headphones => (WarningCode.HeadphonesNotAllowed, "Headphones or earphones are detected: they are not allowed in this exam. Remove them."),
                IncidentKind.CameraOff => (WarningCode.CameraOff, "Your camera is off: turn it back on."),
                IncidentKind.ScreenShareStopped => (WarningCode.ScreenShareStopped, "Screen sharing stopped: share your screen again."),
                IncidentKind.FocusLost => (WarningCode.FocusLost, "The exam window lost the focus: come back to the exam."),
                IncidentKind.MicrophoneOff => (WarningCode.MicrophoneOff, "Your microphone is off: turn it back on."),
                _ => (WarningCode.Unspecified, string.Empty),
            };
            if (warning.Item1 == WarningCode.Unspecified) continue;
            await responses.WriteAsync(new StreamExamResponse { Warning = new Warning { Code = warning.Item1, Message = warning.Item2 } });
        }
        await MaybeWarnUnvalidatedAsync(s, now, responses);
    }

    private async Task OnSaveAsync(StreamContext s, AnswerSave save, IServerStreamWriter<StreamExamResponse> responses)
    {
        var question = s.Session.Exam.Questions.FirstOrDefault(q => q.QuestionId == save.QuestionId);
        string? problem = null;
        var reason = SaveRejection.InvalidAnswer;
        if (save.Sequence <= 0 || save.Sequence > MaxSequence)
        {
            reason = SaveRejection.InvalidSequence;
            problem = $"The save sequence is a whole number from 1 to {MaxSequence}, increasing by one per save across the session.";
        }
        else if (question is null)
        {
            reason = SaveRejection.UnknownQuestion;
            problem = "This question is not part of the exam.";
        }
        else if (save.Answer is null) problem = "The answer is missing.";
        else problem = AnswerRules.Validate(question, save.Answer, options.Value.MaxTextAnswerLength);
        if (problem is not null)
        {
            await Reject(responses, save, reason, problem);
            return;
        }
        if (s.AwaitingResend is { } pending && save.Sequence > pending)
        {
            // Save n waits for its resend: a later one stored first would make n's sequence look reused. Kept in order.
            await RetryLaterAsync(responses, s, RetryTarget.Save, save.Sequence, save.QuestionId, null,
                $"Save {pending} was not stored yet and must be resent first; resend this save after it.");
            return;
        }

        var now = time.GetUtcNow();
        var digest = AnswerRules.Digest(save.Answer!);
        SaveResult result;
        try
        {
            using var call = load.EnterStoreCall();
            result = await store.SaveAsync(s.Session.SessionId, save.QuestionId, save.Sequence, digest, save.Answer!, now, options.Value.MaxSequenceAhead);
        }
        catch (Exception ex) when (RedisFailure.IsUnavailable(ex))
        {
            // Not acknowledged: the save may or may not have reached Redis (a resend is idempotent either way).
            if (s.AwaitingResend is null || save.Sequence < s.AwaitingResend) s.AwaitingResend = save.Sequence;
            await RetryLaterAsync(responses, s, RetryTarget.Save, save.Sequence, save.QuestionId, ex);
            return;
        }
        if (s.AwaitingResend == save.Sequence) s.AwaitingResend = null;
        switch (result.Status)
        {
            case SaveStatus.Stored:
            case SaveStatus.Duplicate:
            case SaveStatus.Stale:
                // Redis replied: the save is on disk. Only now is it acknowledged.
                await responses.WriteAsync(new StreamExamResponse
                {
                    SaveAck = new SaveAck
                    {
                        Sequence = save.Sequence,
                        QuestionId = save.QuestionId,
                        Outcome = result.Status switch { SaveStatus.Stored => SaveOutcome.Stored, SaveStatus.Duplicate => SaveOutcome.Duplicate, _ => SaveOutcome.Stale },
                        AnswerDigest = result.Digest,
                    },
                });
                s.HasAnswers = true;
                await MaybeWarnUnvalidatedAsync(s, now, responses);
                break;
            case SaveStatus.Closed:
                await Reject(responses, save, SaveRejection.SessionClosed, result.ClosedState == SessionState.Submitted
                    ? "Your answers were already validated by the final check: nothing more can be saved."
                    : "The session has ended: nothing more can be saved.");
                break;
            case SaveStatus.DeadlinePassed:
                await Reject(responses, save, SaveRejection.DeadlinePassed, "The deadline has passed: nothing more can be saved.");
                break;
            case SaveStatus.Reused:
                await Reject(responses, save, SaveRejection.InvalidSequence,
                    $"Sequence {save.Sequence} was already used for another save (the last acknowledged is {result.LastAcked}): sequences increase across the whole session; send this save with a new sequence.");
                break;
            case SaveStatus.TooFarAhead:
                await Reject(responses, save, SaveRejection.InvalidSequence,
                    $"Sequence {save.Sequence} is too far past the last acknowledged save ({result.LastAcked}): number the saves one after the other.");
                break;
            case SaveStatus.Conflict:
                await Reject(responses, save, SaveRejection.InvalidAnswer, "This sequence was already used for another answer to this question; use a new sequence.");
                break;
            default:
                await Reject(responses, save, SaveRejection.SessionClosed, "The session no longer exists.");
                break;
        }
    }

    /// <summary>
    /// Answers one message with RetryLater: its store call failed in a way that passes (<paramref name="failure"/>), or
    /// it waits behind a save to be resent (<paramref name="reason"/>). Nothing of it was acknowledged; the stream goes on.
    /// </summary>
    private Task RetryLaterAsync(IServerStreamWriter<StreamExamResponse> responses, StreamContext s, RetryTarget target, long sequence, string questionId,
        Exception? failure, string? reason = null)
    {
        var kind = target == RetryTarget.Save ? "save" : "heartbeat";
        load.Retried(kind);
        if (failure is not null) LogStoreRetry(logger, kind, s.Session.SessionId, sequence, failure.GetType().Name);
        return responses.WriteAsync(new StreamExamResponse
        {
            Retry = new RetryLater
            {
                Target = target,
                Sequence = sequence,
                QuestionId = questionId,
                RetryAfter = Duration.FromTimeSpan(options.Value.StoreRetryAfter),
                Reason = reason ?? (failure is StoreNotAcknowledgedException
                    ? "The store did not confirm this in time: it is not acknowledged. Send it again."
                    : "The store did not answer in time (it may be failing over or overloaded): this is not acknowledged. Send it again."),
            },
        });
    }

    /// <summary>The largest sequence accepted: 2^53 - 1, exact in every JSON and Lua number.</summary>
    internal const long MaxSequence = (1L << 53) - 1;

    private static Task Reject(IServerStreamWriter<StreamExamResponse> responses, AnswerSave save, SaveRejection reason, string message) =>
        responses.WriteAsync(new StreamExamResponse
        {
            SaveRejected = new SaveRejected { Sequence = save.Sequence, QuestionId = save.QuestionId, Reason = reason, Message = message },
        });

    /// <summary>Once per stream: near the deadline, answers saved but not validated are worth a warning.</summary>
    private async Task MaybeWarnUnvalidatedAsync(StreamContext s, DateTimeOffset now, IServerStreamWriter<StreamExamResponse> responses)
    {
        if (s.WarnedUnvalidated) return;
        var warnAt = s.Deadline - (s.Session.Exam.WarnBeforeDeadline?.ToTimeSpan() ?? TimeSpan.FromMinutes(5));
        if (now < warnAt || now >= s.Deadline) return;
        if (!s.HasAnswers)
        {
            try
            {
                using var call = load.EnterStoreCall();
                s.HasAnswers = await store.CountAnswersAsync(s.Session.SessionId) > 0;
            }
            catch (Exception ex) when (RedisFailure.IsUnavailable(ex))
            {
                return; // a warning only: the next heartbeat or save asks again
            }
        }
        if (!s.HasAnswers) return;
        s.WarnedUnvalidated = true;
        await responses.WriteAsync(new StreamExamResponse
        {
            Warning = new Warning
            {
                Code = WarningCode.UnvalidatedAnswers,
                Message = $"The exam ends in {TimeLeftText(s.Deadline - now)} and your answers are saved but NOT validated: press the final check button. The save button does not count.",
            },
        });
    }

    /// <summary>
    /// The time left as a learner reads it, never more than there is: "less than a minute" under 60 s, then
    /// whole minutes rounded down ("4 min" with 4 min 40 s left).
    /// </summary>
    internal static string TimeLeftText(TimeSpan left) =>
        left < TimeSpan.FromMinutes(1) ? "less than a minute" : $"{(int)left.TotalMinutes} min";

    private sealed class StreamContext(SessionData session)
    {
        public SessionData Session { get; } = session;
        /// <summary>The deadline as last read (extra time granted during the session moves it).</summary>
        public DateTimeOffset Deadline { get; set; } = session.Deadline;
        public bool HasAnswers { get; set; }
        public bool WarnedUnvalidated { get; set; }
        /// <summary>The due time (ms) this stream last wrote to the heartbeat-due index; null before its first heartbeat.</summary>
        public long? IndexedDueMs { get; set; }
        /// <summary>When this stream last wrote a heartbeat (null: not yet, or the session was found not running).</summary>
        public DateTimeOffset? WrittenAt { get; set; }
        /// <summary>The rule signals of that heartbeat (<see cref="HeartbeatWrites.Signals"/>).</summary>
        public int WrittenSignals { get; set; }
        /// <summary>When this stream last saw a heartbeat, written or not.</summary>
        public DateTimeOffset? LastSeen { get; set; }
        /// <summary>The lowest save answered with RetryLater after a store failure and not resent yet: later saves wait for it.</summary>
        public long? AwaitingResend { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Exam stream refused: this replica is overloaded ({OpenStreams} streams open, {InFlight} store calls in flight)")]
    private static partial void LogRefused(ILogger logger, int openStreams, int inFlight);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The store failed for a {Kind} of session {SessionId} (sequence {Sequence}, {Failure}): answered RetryLater, the stream goes on")]
    private static partial void LogStoreRetry(ILogger logger, string kind, string sessionId, long sequence, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The last heartbeat of session {SessionId} could not be written at the end of its stream ({Failure}): its gap check waits the slack")]
    private static partial void LogFlushFailed(ILogger logger, string sessionId, string failure);

    [LoggerMessage(Level = LogLevel.Information, Message = "Exam stream opened for session {SessionId} at acknowledged sequence {LastAcked}")]
    private static partial void LogOpened(ILogger logger, string sessionId, long lastAcked);
}
