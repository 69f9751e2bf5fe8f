namespace Vigil.Session.Storage;

/// <summary>
/// The Lua scripts: each runs atomically on one Redis (one Cluster slot: all its keys share the
/// session's hash tag). With appendfsync always, a script's reply means its writes are on disk.
/// Incidents are stored as "kind|startMs|endMs|details" (endMs empty while open).
/// </summary>
internal static class Scripts
{
    private const string IncidentHelpers = """
        local function parse_incident(v)
          local a = string.find(v, '|', 1, true)
          local b = string.find(v, '|', a + 1, true)
          local c = string.find(v, '|', b + 1, true)
          return string.sub(v, 1, a - 1), string.sub(v, a + 1, b - 1), string.sub(v, b + 1, c - 1), string.sub(v, c + 1)
        end
        local function close_incident(skey, ikey, okey, kind, now)
          local id = redis.call('HGET', okey, kind)
          if not id then return false end
          local v = redis.call('HGET', ikey, id)
          if v then
            local k, s, e, d = parse_incident(v)
            redis.call('HSET', ikey, id, k .. '|' .. s .. '|' .. now .. '|' .. d)
          end
          redis.call('HDEL', okey, kind)
          return true
        end
        local function open_incident(skey, ikey, okey, kind, start, details)
          if redis.call('HEXISTS', okey, kind) == 1 then return false end
          local n = redis.call('HINCRBY', skey, 'incident_seq', 1)
          local id = 'inc-' .. n
          redis.call('HSET', ikey, id, kind .. '|' .. start .. '||' .. details)
          redis.call('HSET', okey, kind, id)
          return true
        end

        """;

    /// <summary>
    /// Creates a session hash unless it exists. KEYS: session. ARGV: field, value, ….
    /// Returns 1 when created, 0 when it already existed.
    /// </summary>
    public const string CreateSession = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], unpack(ARGV))
        return 1
        """;

    /// <summary>
    /// One answer save. KEYS: session, answers, answer-meta. ARGV: question, sequence, digest, answer, now (ms).
    /// Returns {outcome, digest now stored, last acknowledged sequence}: stored | duplicate (same sequence and
    /// digest) | stale (an older sequence than the stored one; nothing written); or {closed, state} | {deadline} |
    /// {conflict, stored digest} (same sequence, another answer) | {missing}.
    /// </summary>
    public const string Save = """
        local st = redis.call('HMGET', KEYS[1], 'state', 'deadline', 'last_acked')
        if not st[1] then return {'missing'} end
        if st[1] ~= '1' then return {'closed', st[1]} end
        if tonumber(ARGV[5]) >= tonumber(st[2]) then return {'deadline'} end
        local seq = tonumber(ARGV[2])
        local outcome = 'stored'
        local digest = ARGV[3]
        local meta = redis.call('HGET', KEYS[3], ARGV[1])
        if meta then
          local a = string.find(meta, '|', 1, true)
          local b = string.find(meta, '|', a + 1, true)
          local sseq = tonumber(string.sub(meta, 1, a - 1))
          local sdig = string.sub(meta, a + 1, b - 1)
          if seq == sseq then
            if sdig == digest then outcome = 'duplicate' else return {'conflict', sdig} end
          elseif seq < sseq then
            outcome = 'stale'
            digest = sdig
          end
        end
        if outcome == 'stored' then
          redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
          redis.call('HSET', KEYS[3], ARGV[1], ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[5])
          redis.call('HINCRBY', KEYS[1], 'rev', 1)
        end
        local acked = st[3] or '0'
        if seq > tonumber(acked) then
          acked = ARGV[2]
          redis.call('HSET', KEYS[1], 'last_acked', acked)
        end
        return {outcome, digest, acked}
        """;

    /// <summary>
    /// A heartbeat. KEYS: session, incidents, open-incidents. ARGV: now (ms), then one flag per rule kind 2..6
    /// (headphones, camera off, screen share stopped, focus lost, microphone off): '1' when breached.
    /// Closes an open connection-lost incident; opens or closes rule incidents. Returns {ok, deadline ms, opened kinds…} or {closed, state} | {missing}.
    /// </summary>
    public const string Heartbeat = IncidentHelpers + """
        local f = redis.call('HMGET', KEYS[1], 'state', 'deadline')
        local state = f[1]
        if not state then return {'missing'} end
        if state ~= '1' then return {'closed', state} end
        local now = ARGV[1]
        redis.call('HSET', KEYS[1], 'last_hb', now)
        -- The open incidents in one read (usually none): only those are closed, only missing ones opened.
        local open = {}
        local flat = redis.call('HGETALL', KEYS[3])
        for i = 1, #flat, 2 do open[flat[i]] = flat[i + 1] end
        local function close_open(kind)
          local id = open[kind]
          if not id then return end
          local v = redis.call('HGET', KEYS[2], id)
          if v then
            local k, s, e, d = parse_incident(v)
            redis.call('HSET', KEYS[2], id, k .. '|' .. s .. '|' .. now .. '|' .. d)
          end
          redis.call('HDEL', KEYS[3], kind)
        end
        close_open('1')
        local result = {'ok', f[2]}
        for k = 2, 6 do
          local kind = tostring(k)
          if ARGV[k] == '1' then
            if not open[kind] and open_incident(KEYS[1], KEYS[2], KEYS[3], kind, now, '') then table.insert(result, kind) end
          else
            close_open(kind)
          end
        end
        return result
        """;

    /// <summary>
    /// The heartbeat-gap check of one session. KEYS: session, incidents, open-incidents. ARGV: now (ms), details.
    /// Opens a connection-lost incident starting at the last heartbeat when the gap exceeds the exam's limit.
    /// Returns {gone} (finished or missing) | {later, due ms} | {open} (already open) | {opened}.
    /// </summary>
    public const string HeartbeatGap = IncidentHelpers + """
        local f = redis.call('HMGET', KEYS[1], 'state', 'last_hb', 'started_at', 'gap_ms')
        if not f[1] or f[1] ~= '1' then return {'gone'} end
        local last = f[2] or f[3]
        local due = tonumber(last) + tonumber(f[4])
        if tonumber(ARGV[1]) < due then return {'later', tostring(due)} end
        if open_incident(KEYS[1], KEYS[2], KEYS[3], '1', last, ARGV[2]) then return {'opened'} end
        return {'open'}
        """;

    /// <summary>
    /// Ends a session: the state change, the receipt and the event in the outbox, in one step.
    /// KEYS: session, incidents, open-incidents, outbox.
    /// ARGV: 1 mode (final | expire | exception), 2 expected rev, 3 now (ms), 4 new state, 5 last save sequence (final),
    /// 6 receipt (may be empty), 7 score, 8 max score, 9 event JSON (may be empty), 10 request id, 11 exception (may be empty),
    /// 12 submission kind.
    /// Returns {ok} | {state, current} | {deadline} | {mismatch, last acked} | {early, deadline} | {retry} (an answer
    /// changed since the caller read them) | {done} (exception already granted) | {missing}.
    /// </summary>
    public const string Finish = IncidentHelpers + """
        local f = redis.call('HMGET', KEYS[1], 'state', 'deadline', 'last_acked', 'rev')
        if not f[1] then return {'missing'} end
        local mode = ARGV[1]
        local now = ARGV[3]
        if mode == 'exception' then
          if f[1] == '5' then return {'done'} end
          if f[1] ~= '3' then return {'state', f[1]} end
        else
          if f[1] ~= '1' then return {'state', f[1]} end
          if mode == 'final' then
            if tonumber(now) >= tonumber(f[2]) then return {'deadline'} end
            if tonumber(f[3] or '0') ~= tonumber(ARGV[5]) then return {'mismatch', f[3] or '0'} end
          elseif tonumber(now) < tonumber(f[2]) then
            return {'early', f[2]}
          end
        end
        if (f[4] or '0') ~= ARGV[2] then return {'retry'} end
        redis.call('HSET', KEYS[1], 'state', ARGV[4], 'submission_kind', ARGV[12])
        if mode ~= 'exception' then redis.call('HSET', KEYS[1], 'finished_at', now) end
        if ARGV[6] ~= '' then
          redis.call('HSET', KEYS[1], 'receipt', ARGV[6], 'submitted_at', now, 'score', ARGV[7], 'max_score', ARGV[8])
        end
        if ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'finish_request', ARGV[10]) end
        if ARGV[11] ~= '' then redis.call('HSET', KEYS[1], 'exception', ARGV[11]) end
        local open = redis.call('HKEYS', KEYS[3])
        for _, kind in ipairs(open) do close_incident(KEYS[1], KEYS[2], KEYS[3], kind, now) end
        if ARGV[9] ~= '' then redis.call('RPUSH', KEYS[4], ARGV[9]) end
        return {'ok'}
        """;

    /// <summary>
    /// Records a board decision with its event. KEYS: session, decisions, outbox, requests.
    /// ARGV: 1 request key, 2 expected current version, 3 decision (protobuf), 4 event JSON, 5 new version.
    /// Returns {ok} | {dup, version} | {version, current} | {state, current} | {missing}.
    /// </summary>
    public const string Decide = """
        local done = redis.call('HGET', KEYS[4], ARGV[1])
        if done then return {'dup', done} end
        local f = redis.call('HMGET', KEYS[1], 'state', 'decision_version')
        if not f[1] then return {'missing'} end
        if f[1] == '1' then return {'state', f[1]} end
        local cur = f[2] or '0'
        if tonumber(cur) ~= tonumber(ARGV[2]) then return {'version', cur} end
        redis.call('RPUSH', KEYS[2], ARGV[3])
        redis.call('HSET', KEYS[1], 'decision_version', ARGV[5])
        redis.call('RPUSH', KEYS[3], ARGV[4])
        redis.call('HSET', KEYS[4], ARGV[1], ARGV[5])
        return {'ok'}
        """;

    /// <summary>
    /// Moves the deadline of a session still in progress (extra time granted after the start).
    /// KEYS: session. ARGV: extra time (ms). Returns the new deadline (ms), or 0 when the session is not in progress.
    /// </summary>
    public const string ExtendDeadline = """
        local f = redis.call('HMGET', KEYS[1], 'state', 'started_at', 'exam_ms')
        if f[1] ~= '1' or not f[3] then return 0 end
        local deadline = tonumber(f[2]) + tonumber(f[3]) + tonumber(ARGV[1])
        redis.call('HSET', KEYS[1], 'deadline', tostring(deadline))
        return deadline
        """;

    /// <summary>
    /// Replaces an exam definition. KEYS: exam, exam requests. ARGV: 1 expected version, 2 definition, 3 new version, 4 request key.
    /// Returns {ok} | {dup, version} | {version, current} | {missing}.
    /// </summary>
    public const string UpdateExam = """
        local done = redis.call('HGET', KEYS[2], ARGV[4])
        if done then return {'dup', done} end
        local v = redis.call('HGET', KEYS[1], 'version')
        if not v then return {'missing'} end
        if tonumber(v) ~= tonumber(ARGV[1]) then return {'version', v} end
        redis.call('HSET', KEYS[1], 'def', ARGV[2], 'version', ARGV[3])
        redis.call('HSET', KEYS[2], ARGV[4], ARGV[3])
        return {'ok'}
        """;

    /// <summary>Removes a member from a sorted set only if its score is still the one read. KEYS: zset. ARGV: member, score.</summary>
    public const string RemoveIfScore = """
        local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if s and tonumber(s) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
        return 0
        """;

    /// <summary>Removes a member from a sorted set only if its score is older than a bound. KEYS: zset. ARGV: member, bound.</summary>
    public const string RemoveIfOlder = """
        local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if s and tonumber(s) < tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
        return 0
        """;

    /// <summary>Releases a lease only if this holder still holds it. KEYS: lease. ARGV: holder.</summary>
    public const string ReleaseLease = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;
}
