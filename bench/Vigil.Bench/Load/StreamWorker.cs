using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Vigil.Bench.Measure;
using Vigil.Contracts.Session.V1;

namespace Vigil.Bench.Load;

/// <summary>
/// A load process: opens its share of learners' exam streams, waits for "GO" on stdin, drives them for the
/// warm-up and the measured window, then (optionally) sends each learner's final check, and prints
/// "RESULT {json}". Open loop: every message has an intended send time on a fixed schedule (streams staggered
/// evenly over the interval) and its latency is measured from that time, whether the client managed to send it
/// on time or not. Saturate: each stream keeps a fixed number of messages in flight (the message-rate ceiling).
/// </summary>
internal sealed class StreamWorker
{
    private static readonly double TicksPerSecond = Stopwatch.Frequency;
    private readonly StreamSpec _spec;
    private readonly List<Learner> _learners = [];
    private readonly List<GrpcChannel> _channels = [];
    private readonly Latency _saveLatency = new();
    private readonly Latency _heartbeatLatency = new();
    private readonly ConcurrentDictionary<string, int> _errors = new();
    private long _go, _windowStart, _windowEnd;
    private long _hbSent, _hbReplies, _hbInWindow, _savesSent, _saveAcks, _saveAcksInWindow, _saveRejected, _warnings;
    private long _saveRetries, _heartbeatRetries, _pacedHeartbeats, _paceMaxMs;
    private int _dropped;
    private volatile bool _finishing;
    // Resume (a client that reconnects when its stream is lost, as after a SIGKILL of the session process).
    private readonly Latency _resumeLatency = new();
    private long _streamsLost, _resumed, _reconnectAttempts, _lostAcknowledged, _storedBeforeLoss, _firstLossTicks = long.MaxValue, _lastResumeTicks;
    private Timeline _saveTimeline = new(0);
    private Timeline _heartbeatTimeline = new(0);

    private StreamWorker(StreamSpec spec) => _spec = spec;

    /// <summary>The schedule's heartbeat interval (ticks); none when the spec sends no heartbeats.</summary>
    private long HeartbeatIntervalTicks => _spec.HeartbeatSeconds > 0 ? (long)(_spec.HeartbeatSeconds * TicksPerSecond) : long.MaxValue;

    public static async Task<int> RunAsync(FileInfo specFile)
    {
        var spec = SpecIo.ReadSpec(await File.ReadAllTextAsync(specFile.FullName));
        var worker = new StreamWorker(spec);
        var result = new WorkerResult { Streams = spec.Streams.Count };
        var openWatch = Stopwatch.StartNew();
        await worker.OpenAllAsync();
        result.OpenSeconds = openWatch.Elapsed.TotalSeconds;
        result.Opened = worker._learners.Count(l => l.Call is not null);
        result.OpenFailed = spec.Streams.Count - result.Opened;
        result.PeakOpenFiles = ProcStats.OpenFiles(Environment.ProcessId);
        Console.Out.WriteLine($"READY {result.Opened} {result.OpenFailed}");
        Console.Out.Flush();
        var go = await Console.In.ReadLineAsync();
        if (go?.Trim() != "GO") return 2;
        await worker.DriveAsync();
        await worker.AwaitResumesAsync();
        worker.Fill(result);
        if (spec.FinalCheck) await worker.FinalChecksAsync(result);
        worker.Dispose();
        foreach (var (message, count) in worker._errors.OrderByDescending(e => e.Value).Take(10)) result.Errors.Add($"{count}x {message}");
        Console.Out.WriteLine("RESULT " + SpecIo.Write(result));
        Console.Out.Flush();
        return 0;
    }

    private void Error(string message)
    {
        if (_errors.Count < 50 || _errors.ContainsKey(message)) _errors.AddOrUpdate(message, 1, (_, c) => c + 1);
    }

    private async Task OpenAllAsync()
    {
        var locals = Connections.Parse(_spec.LocalAddresses);
        var shared = new Dictionary<string, GrpcChannel[]>();
        if (!_spec.ConnectionPerStream)
        {
            foreach (var address in _spec.Streams.Select(s => s.Address).Distinct())
            {
                var channels = Enumerable.Range(0, Math.Max(1, _spec.SharedConnections))
                    .Select(j => Connections.Channel(address, locals[j % locals.Count], multipleConnections: true)).ToArray();
                shared[address] = channels;
                _channels.AddRange(channels);
            }
        }
        for (var i = 0; i < _spec.Streams.Count; i++)
        {
            var t = _spec.Streams[i];
            GrpcChannel channel;
            if (_spec.ConnectionPerStream)
            {
                channel = Connections.Channel(t.Address, locals[i % locals.Count], multipleConnections: false);
                _channels.Add(channel);
            }
            else
            {
                var set = shared[t.Address];
                channel = set[i % set.Length];
            }
            _learners.Add(new Learner(i, t, channel));
        }
        using var gate = new SemaphoreSlim(Math.Max(1, _spec.OpenConcurrency));
        await Task.WhenAll(_learners.Select(async l =>
        {
            await gate.WaitAsync();
            try { await OpenAsync(l); }
            finally { gate.Release(); }
        }));
    }

    private async Task OpenAsync(Learner l)
    {
        try
        {
            var (call, opened) = await OpenCallAsync(l);
            l.LastAcked = opened.LastAckedSequence;
            l.NextSaveSequence = opened.LastAckedSequence + 1;
            l.Call = call;
            l.Connected = true;
            l.Reader = Task.Run(() => ReadAsync(l, call));
        }
        catch (RpcException ex)
        {
            Error($"open: {ex.StatusCode} {ex.Status.Detail}");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or InvalidOperationException)
        {
            Error($"open: {ex.GetType().Name} {ex.Message}");
        }
    }

    /// <summary>Opens the learner's exam stream (a first open or a resume): the call and the server's StreamOpened.</summary>
    private async Task<(AsyncDuplexStreamingCall<StreamExamRequest, StreamExamResponse> Call, StreamOpened Opened)> OpenCallAsync(Learner l)
    {
        var client = new SessionService.SessionServiceClient(l.Channel);
        var call = client.StreamExam(new Metadata { { "authorization", "Bearer " + l.Target.Token } });
        try
        {
            await call.RequestStream.WriteAsync(new StreamExamRequest { Open = new OpenStream { SessionId = l.Target.SessionId } });
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            if (!await call.ResponseStream.MoveNext(timeout.Token) || call.ResponseStream.Current.MessageCase != StreamExamResponse.MessageOneofCase.Opened)
            {
                throw new InvalidOperationException("stream ended before StreamOpened");
            }
            return (call, call.ResponseStream.Current.Opened);
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The stream was lost (the session process was killed, or the gateway cut it). Without <c>Resume</c> the learner
    /// counts as dropped. With it, the learner reconnects as a real client does: full-jitter exponential backoff
    /// (250 ms doubling to 8 s, or the server's pushback when it gives one), the stream opened again, the server's last
    /// acknowledged sequence compared with the last acknowledgement this client saw (a lower one is an acknowledged
    /// save lost), and the saves not acknowledged yet sent again in order.
    /// </summary>
    private void StreamLost(Learner l, string reason)
    {
        if (_finishing) return;
        if (!_spec.Resume)
        {
            l.Dropped = true;
            Interlocked.Increment(ref _dropped);
            Error(reason);
            return;
        }
        if (Interlocked.CompareExchange(ref l.Reconnecting, 1, 0) != 0) return;
        l.Connected = false;
        l.LostAt = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _streamsLost);
        Atomic.Min(ref _firstLossTicks, l.LostAt);
        Error("lost, resuming: " + reason);
        _ = Task.Run(() => ResumeAsync(l));
    }

    private async Task ResumeAsync(Learner l)
    {
        for (var attempt = 0; !_finishing; attempt++)
        {
            var cap = Math.Min(8000, 250 << Math.Min(attempt, 5));
            var waitMs = Random.Shared.Next(cap / 2, cap);
            Interlocked.Increment(ref _reconnectAttempts);
            try
            {
                var (call, opened) = await OpenCallAsync(l);
                await ResumedAsync(l, call, opened);
                return;
            }
            catch (RpcException ex)
            {
                // An overloaded replica or gateway says how long to wait (pushback); otherwise the backoff's.
                if (ex.Trailers.GetValue("grpc-retry-pushback-ms") is { } pushback && int.TryParse(pushback, out var ms) && ms >= 0) waitMs = ms + Random.Shared.Next(0, 250);
                if (attempt == 0 || ex.StatusCode != StatusCode.Unavailable) Error($"resume: {ex.StatusCode} {ex.Status.Detail}");
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or InvalidOperationException)
            {
                if (attempt == 0) Error($"resume: {ex.GetType().Name} {ex.Message}");
            }
            await Task.Delay(waitMs);
        }
    }

    private async Task ResumedAsync(Learner l, AsyncDuplexStreamingCall<StreamExamRequest, StreamExamResponse> call, StreamOpened opened)
    {
        await l.WriteLock.WaitAsync();
        try
        {
            var serverAcked = opened.LastAckedSequence;
            // Acknowledged here but unknown to the server: lost. (Acks come in sequence order on one stream.)
            if (l.LastAcked > serverAcked) Interlocked.Add(ref _lostAcknowledged, l.LastAcked - serverAcked);
            // Sent before the loss and stored, but the acknowledgement was lost with the stream.
            foreach (var seq in l.PendingSaves.Keys.Where(k => k <= serverAcked).ToList())
            {
                if (l.PendingSaves.TryRemove(seq, out _)) Interlocked.Increment(ref _storedBeforeLoss);
            }
            if (serverAcked > l.LastAcked) l.LastAcked = serverAcked;
            l.Resends.Clear();
            l.PendingHeartbeats.Clear();
            l.Call?.Dispose();
            l.Call = call;
            l.Reader = Task.Run(() => ReadAsync(l, call));
            foreach (var seq in l.PendingSaves.Keys.Order().ToList()) await call.RequestStream.WriteAsync(SaveMessage(seq));
            l.Connected = true;
        }
        finally
        {
            l.WriteLock.Release();
        }
        var now = Stopwatch.GetTimestamp();
        _resumeLatency.RecordTicks(now - l.LostAt);
        Atomic.Max(ref _lastResumeTicks, now);
        Interlocked.Increment(ref _resumed);
        Interlocked.Exchange(ref l.Reconnecting, 0);
    }

    private bool InWindow(long ticks) => ticks >= _windowStart && ticks < _windowEnd;

    private async Task ReadAsync(Learner l, AsyncDuplexStreamingCall<StreamExamRequest, StreamExamResponse> call)
    {
        var stream = call.ResponseStream;
        try
        {
            while (await stream.MoveNext(CancellationToken.None))
            {
                var r = stream.Current;
                var now = Stopwatch.GetTimestamp();
                switch (r.MessageCase)
                {
                    case StreamExamResponse.MessageOneofCase.HeartbeatReply:
                        if (r.HeartbeatReply.NextHeartbeatAfter is { } after)
                        {
                            // The server sets the pace: as a client does, the next heartbeat waits that long from
                            // this reply when it is wider than the exam's interval (never sooner than the schedule).
                            var afterTicks = (long)(after.ToTimeSpan().TotalSeconds * TicksPerSecond);
                            if (afterTicks > HeartbeatIntervalTicks) l.PaceNotBefore = now + afterTicks;
                            Atomic.Max(ref _paceMaxMs, (long)after.ToTimeSpan().TotalMilliseconds);
                        }
                        if (l.PendingHeartbeats.TryRemove(r.HeartbeatReply.Sequence, out var hb))
                        {
                            Interlocked.Increment(ref _hbReplies);
                            if (InWindow(now)) Interlocked.Increment(ref _hbInWindow);
                            if (InWindow(hb))
                            {
                                _heartbeatLatency.RecordTicks(now - hb);
                                _heartbeatTimeline.Record(hb - _windowStart, now - hb);
                            }
                            l.InFlight?.Release();
                        }
                        break;
                    case StreamExamResponse.MessageOneofCase.SaveAck:
                        if (l.PendingSaves.TryRemove(r.SaveAck.Sequence, out var sv))
                        {
                            Interlocked.Increment(ref _saveAcks);
                            if (InWindow(now)) Interlocked.Increment(ref _saveAcksInWindow);
                            if (InWindow(sv))
                            {
                                _saveLatency.RecordTicks(now - sv);
                                _saveTimeline.Record(sv - _windowStart, now - sv);
                            }
                            if (r.SaveAck.Sequence > l.LastAcked) l.LastAcked = r.SaveAck.Sequence;
                            l.InFlight?.Release();
                        }
                        break;
                    case StreamExamResponse.MessageOneofCase.SaveRejected:
                        Interlocked.Increment(ref _saveRejected);
                        Error($"save rejected: {r.SaveRejected.Reason} {r.SaveRejected.Message}");
                        if (l.PendingSaves.TryRemove(r.SaveRejected.Sequence, out _)) l.InFlight?.Release();
                        break;
                    case StreamExamResponse.MessageOneofCase.Retry:
                        // Nothing of that message was acknowledged and the stream stays open: a save is sent again
                        // (same sequence and answer, in order, after retry_after) and keeps its intended send time,
                        // so its latency includes the wait; a heartbeat is replaced by the next one.
                        var retry = r.Retry;
                        var wait = (long)((retry.RetryAfter?.ToTimeSpan().TotalSeconds ?? 0.2) * TicksPerSecond);
                        if (retry.Target == RetryTarget.Save && l.PendingSaves.ContainsKey(retry.Sequence))
                        {
                            Interlocked.Increment(ref _saveRetries);
                            l.Resends[retry.Sequence] = now + wait;
                            if (Interlocked.CompareExchange(ref l.Resending, 1, 0) == 0) _ = Task.Run(() => ResendAsync(l));
                        }
                        else if (l.PendingHeartbeats.TryRemove(retry.Sequence, out _))
                        {
                            Interlocked.Increment(ref _heartbeatRetries);
                            l.InFlight?.Release();
                        }
                        break;
                    case StreamExamResponse.MessageOneofCase.Warning:
                        Interlocked.Increment(ref _warnings);
                        break;
                    case StreamExamResponse.MessageOneofCase.Reconnect:
                        Error("server asked to reconnect");
                        break;
                }
            }
            StreamLost(l, "stream ended by the server during the run");
        }
        catch (RpcException ex)
        {
            if (_finishing && ex.StatusCode == StatusCode.Cancelled) return;
            StreamLost(l, $"stream: {ex.StatusCode} {ex.Status.Detail}");
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or HttpRequestException)
        {
            StreamLost(l, $"stream: {ex.GetType().Name} {ex.Message}");
        }
        finally
        {
            l.InFlight?.Release(1000);
        }
    }

    private async Task DriveAsync()
    {
        _go = Stopwatch.GetTimestamp();
        _windowStart = _go + (long)(_spec.WarmupSeconds * TicksPerSecond);
        _windowEnd = _windowStart + (long)(_spec.DurationSeconds * TicksPerSecond);
        _saveTimeline = new Timeline((int)Math.Ceiling(_spec.DurationSeconds));
        _heartbeatTimeline = new Timeline((int)Math.Ceiling(_spec.DurationSeconds));
        var live = _learners.Where(l => l.Call is not null).ToList();
        var senders = _spec.Mode == "saturate"
            ? live.Select(l => Task.Run(() => SaturateAsync(l)))
            : live.Select((l, i) => Task.Run(() => OpenLoopAsync(l, i, live.Count)));
        await Task.WhenAll(senders);
        // Grace: wait for the replies to what was sent (at most 10 s), then count the rest as unanswered.
        var graceEnd = Stopwatch.GetTimestamp() + (long)(10 * TicksPerSecond);
        while (Stopwatch.GetTimestamp() < graceEnd && live.Any(l => !l.Dropped && (!l.PendingSaves.IsEmpty || !l.PendingHeartbeats.IsEmpty)))
        {
            await Task.Delay(20);
        }
    }

    private static async Task DelayUntil(long ticks)
    {
        var ms = (ticks - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
        if (ms > 0) await Task.Delay((int)ms);
    }

    private async Task OpenLoopAsync(Learner l, int index, int count)
    {
        var hbInterval = HeartbeatIntervalTicks;
        var saveInterval = _spec.SaveSeconds > 0 ? (long)(_spec.SaveSeconds * TicksPerSecond) : long.MaxValue;
        // Streams evenly staggered over each interval, heartbeats and saves with different offsets.
        var nextHb = hbInterval == long.MaxValue ? long.MaxValue : _go + (long)(hbInterval * (index / (double)count));
        var nextSave = saveInterval == long.MaxValue ? long.MaxValue : _go + (long)(saveInterval * (((index * 7919L) % count) / (double)count));
        try
        {
            while (!l.Dropped)
            {
                var isHb = nextHb <= nextSave;
                var next = isHb ? nextHb : nextSave;
                if (next >= _windowEnd) break;
                await DelayUntil(next);
                if (isHb)
                {
                    await SendHeartbeatAsync(l, next);
                    nextHb += hbInterval;
                    // A pace wider than the exam's interval moves the next heartbeat out (never in).
                    if (l.PaceNotBefore > nextHb)
                    {
                        nextHb = l.PaceNotBefore;
                        Interlocked.Increment(ref _pacedHeartbeats);
                    }
                }
                else
                {
                    await SendSaveAsync(l, next);
                    nextSave += saveInterval;
                }
            }
        }
        catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException or OperationCanceledException)
        {
            Error($"send: {ex.GetType().Name} {ex.Message}");
        }
    }

    private async Task SaturateAsync(Learner l)
    {
        l.InFlight = new SemaphoreSlim(Math.Max(1, _spec.Depth));
        var remaining = TimeSpan.FromTicks((long)((_windowEnd - Stopwatch.GetTimestamp()) / TicksPerSecond * TimeSpan.TicksPerSecond));
        using var stop = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        try
        {
            while (!l.Dropped)
            {
                await l.InFlight.WaitAsync(stop.Token);
                var now = Stopwatch.GetTimestamp();
                if (now >= _windowEnd) break;
                if (_spec.Kind == "heartbeat") await SendHeartbeatAsync(l, now);
                else await SendSaveAsync(l, now);
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException)
        {
            Error($"send: {ex.GetType().Name} {ex.Message}");
        }
    }

    /// <summary>
    /// One write at a time on a stream: the sender, the resends and a resume share it. False when the stream is lost
    /// (with <c>Resume</c>: a save stays pending and goes again once the stream is back).
    /// </summary>
    private async Task<bool> WriteAsync(Learner l, StreamExamRequest message)
    {
        await l.WriteLock.WaitAsync();
        try
        {
            if (!l.Connected) return false;
            await l.Call!.RequestStream.WriteAsync(message);
            return true;
        }
        catch (Exception ex) when (_spec.Resume && ex is RpcException or IOException or InvalidOperationException)
        {
            return false;
        }
        finally
        {
            l.WriteLock.Release();
        }
    }

    /// <summary>Sends the saves told to retry once their time has come, lowest sequence first (the server keeps them in order).</summary>
    private async Task ResendAsync(Learner l)
    {
        try
        {
            while (!l.Dropped && !_finishing)
            {
                if (l.Resends.IsEmpty)
                {
                    Interlocked.Exchange(ref l.Resending, 0);
                    // A RetryLater that arrived after the check and before the flag dropped starts no loop: take it here.
                    if (l.Resends.IsEmpty || Interlocked.CompareExchange(ref l.Resending, 1, 0) != 0) return;
                    continue;
                }
                var (seq, due) = l.Resends.MinBy(kv => kv.Key);
                await DelayUntil(due);
                if (l.Resends.TryRemove(seq, out _) && l.PendingSaves.ContainsKey(seq)) await WriteAsync(l, SaveMessage(seq));
            }
        }
        catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException or OperationCanceledException)
        {
            Error($"resend: {ex.GetType().Name} {ex.Message}");
        }
        finally
        {
            if (l.Dropped || _finishing) Interlocked.Exchange(ref l.Resending, 0);
        }
    }

    private StreamExamRequest SaveMessage(long seq)
    {
        var questions = _spec.QuestionIds;
        var question = questions.Count == 0 ? "q1" : questions[(int)(seq % questions.Count)];
        return new StreamExamRequest
        {
            Save = new AnswerSave
            {
                Sequence = seq,
                QuestionId = question,
                Answer = new Answer { Choice = new ChoiceAnswer { OptionIds = { "o" + (1 + (seq % 4)).ToString(System.Globalization.CultureInfo.InvariantCulture) } } },
            },
        };
    }

    private async Task SendHeartbeatAsync(Learner l, long intended)
    {
        if (!l.Connected) return;
        var seq = ++l.HeartbeatSequence;
        l.PendingHeartbeats[seq] = intended;
        var sent = await WriteAsync(l, new StreamExamRequest
        {
            Heartbeat = new Heartbeat
            {
                Sequence = seq,
                CameraOn = true,
                MicrophoneOn = true,
                ScreenShareOn = true,
                Focused = true,
                AudioOutput = AudioOutput.Speakers,
                ClientTime = Timestamp.FromDateTime(DateTime.UtcNow),
            },
        });
        if (sent) Interlocked.Increment(ref _hbSent);
        else l.PendingHeartbeats.TryRemove(seq, out _);
    }

    private async Task SendSaveAsync(Learner l, long intended)
    {
        var seq = l.NextSaveSequence++;
        l.PendingSaves[seq] = intended;
        // While the stream is lost (Resume), the save waits in PendingSaves and is sent once it is back.
        await WriteAsync(l, SaveMessage(seq));
        Interlocked.Increment(ref _savesSent);
    }

    /// <summary>With Resume: waits (at most <see cref="StreamSpec.ResumeGraceSeconds"/>) until no learner is still reconnecting.</summary>
    private async Task AwaitResumesAsync()
    {
        if (!_spec.Resume || _spec.ResumeGraceSeconds <= 0) return;
        var until = Stopwatch.GetTimestamp() + (long)(_spec.ResumeGraceSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until && _learners.Any(l => l.Call is not null && Volatile.Read(ref l.Reconnecting) == 1))
        {
            await Task.Delay(100);
        }
    }

    private void Fill(WorkerResult r)
    {
        _finishing = true;
        // A learner still reconnecting at the end never got back: dropped.
        var neverResumed = _learners.Count(l => l.Call is not null && Volatile.Read(ref l.Reconnecting) == 1);
        r.Dropped = _dropped + neverResumed;
        r.StreamsLost = _streamsLost;
        r.Resumed = _resumed;
        r.NeverResumed = neverResumed;
        r.ReconnectAttempts = _reconnectAttempts;
        r.LostAcknowledged = _lostAcknowledged;
        r.StoredBeforeLoss = _storedBeforeLoss;
        r.FirstLossTicks = _streamsLost > 0 ? _firstLossTicks : 0;
        r.LastResumeTicks = _lastResumeTicks;
        r.ResumeLatency = _resumeLatency.Export();
        r.HeartbeatsSent = _hbSent;
        r.HeartbeatReplies = _hbReplies;
        r.HeartbeatRepliesInWindow = _hbInWindow;
        r.SavesSent = _savesSent;
        r.SaveAcks = _saveAcks;
        r.SaveAcksInWindow = _saveAcksInWindow;
        r.SaveRejected = _saveRejected;
        r.Warnings = _warnings;
        r.SaveRetries = _saveRetries;
        r.HeartbeatRetries = _heartbeatRetries;
        r.PacedHeartbeats = _pacedHeartbeats;
        r.PaceMaxMs = _paceMaxMs;
        r.Unanswered = _learners.Sum(l => l.PendingSaves.Values.Count(InWindow) + l.PendingHeartbeats.Values.Count(InWindow));
        r.WindowSeconds = _spec.DurationSeconds;
        r.WindowStartTicks = _windowStart;
        r.SaveLatency = _saveLatency.Export();
        r.HeartbeatLatency = _heartbeatLatency.Export();
        r.SaveTimeline = _saveTimeline.Export();
        r.HeartbeatTimeline = _heartbeatTimeline.Export();
    }

    private async Task FinalChecksAsync(WorkerResult result)
    {
        var live = _learners.Where(l => l.Call is not null && !l.Dropped && l.Connected).ToList();
        // Close each stream first, as a client does before its final check.
        await Task.WhenAll(live.Select(async l =>
        {
            try { await l.Call!.RequestStream.CompleteAsync(); } catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException) { }
        }));
        using var gate = new SemaphoreSlim(64);
        var ok = 0;
        var failed = 0;
        var submitted = new ConcurrentBag<string>();
        await Task.WhenAll(live.Select(async l =>
        {
            await gate.WaitAsync();
            try
            {
                var client = new SessionService.SessionServiceClient(l.Channel);
                await client.SubmitFinalCheckAsync(new SubmitFinalCheckRequest
                {
                    RequestId = Guid.NewGuid().ToString("N"),
                    SessionId = l.Target.SessionId,
                    LastSaveSequence = l.LastAcked,
                }, new Metadata { { "authorization", "Bearer " + l.Target.Token } }, deadline: DateTime.UtcNow.AddSeconds(60));
                Interlocked.Increment(ref ok);
                submitted.Add(l.Target.SessionId);
            }
            catch (RpcException ex)
            {
                Interlocked.Increment(ref failed);
                Error($"final check: {ex.StatusCode} {ex.Status.Detail}");
            }
            finally { gate.Release(); }
        }));
        result.FinalChecksOk = ok;
        result.FinalChecksFailed = failed;
        result.SubmittedSessions.AddRange(submitted);
    }

    private void Dispose()
    {
        _finishing = true;
        foreach (var l in _learners) l.Call?.Dispose();
        foreach (var c in _channels) c.Dispose();
    }

    private sealed class Learner(int index, StreamTarget target, GrpcChannel channel)
    {
        public int Index { get; } = index;
        public StreamTarget Target { get; } = target;
        public GrpcChannel Channel { get; } = channel;
        public AsyncDuplexStreamingCall<StreamExamRequest, StreamExamResponse>? Call { get; set; }
        public Task? Reader { get; set; }
        public long LastAcked { get; set; }
        public long NextSaveSequence { get; set; } = 1;
        public long HeartbeatSequence { get; set; }
        public volatile bool Dropped;
        /// <summary>The stream is open (false while a lost stream is being resumed).</summary>
        public volatile bool Connected;
        /// <summary>1 while the learner reconnects after losing its stream.</summary>
        public int Reconnecting;
        /// <summary>When the stream was last lost (Stopwatch ticks).</summary>
        public long LostAt;
        public SemaphoreSlim? InFlight { get; set; }
        public ConcurrentDictionary<long, long> PendingSaves { get; } = new();
        public ConcurrentDictionary<long, long> PendingHeartbeats { get; } = new();
        /// <summary>Saves told to retry: sequence → when to send again (Stopwatch ticks).</summary>
        public ConcurrentDictionary<long, long> Resends { get; } = new();
        /// <summary>1 while a resend loop runs for this stream.</summary>
        public int Resending;
        public SemaphoreSlim WriteLock { get; } = new(1, 1);
        /// <summary>The next heartbeat not before this tick: set by a reply whose pace is wider than the exam's interval.</summary>
        public long PaceNotBefore { get; set; }
    }
}
