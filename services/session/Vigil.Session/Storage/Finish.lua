-- Ends a session: the new state, the receipt and marks, the closing of open incidents and the event in the
-- outbox, in one step. Modes: 'final' (the learner's final check: before the deadline, with the server's last
-- acked sequence), 'expire' (the deadline passed), 'exception' (the board accepts the saved answers of an
-- expired, unsubmitted session). expectedRev is the rev the receipt was computed at: any save since refuses.
-- Replies {'ok'} | {'state', current} | {'deadline'} | {'mismatch', last acked} | {'early', deadline} |
-- {'retry'} (an answer changed since the caller read them) | {'done'} (exception already granted) | {'missing'}.
-- The board's exception writes its audit entry (auditId, auditEntry: AuditEntry; empty id: none) in the same step.
-- include: states.lua
-- include: incidents.lua
local f = redis.call('HMGET', @session, 'state', 'deadline', 'last_acked', 'rev', 'grace_ms')
-- The session's end: its deadline, plus the grace period of an allowance (saves and the final check accepted until then).
local ends = tonumber(f[2] or '0') + tonumber(f[5] or '0')
if not f[1] then return {'missing'} end
local mode = @mode
local now = @now
if mode == 'exception' then
  if f[1] == SUBMITTED_BY_EXCEPTION then return {'done'} end
  if f[1] ~= EXPIRED_UNSUBMITTED then return {'state', f[1]} end
else
  if f[1] ~= IN_PROGRESS then return {'state', f[1]} end
  if mode == 'final' then
    if tonumber(now) >= ends then return {'deadline'} end
    if tonumber(f[3] or '0') ~= tonumber(@lastSaveSequence) then return {'mismatch', f[3] or '0'} end
  elseif tonumber(now) < ends then
    return {'early', tostring(ends)}
  end
end
if tonumber(f[4] or '0') ~= tonumber(@expectedRev) then return {'retry'} end
redis.call('HSET', @session, 'state', @newState)
if mode ~= 'exception' then redis.call('HSET', @session, 'finished_at', now) end
if @receipt ~= '' then
  redis.call('HSET', @session, 'receipt', @receipt, 'submitted_at', now, 'score', @score, 'max_score', @maxScore)
end
if @requestId ~= '' then redis.call('HSET', @session, 'finish_request', @requestId) end
if @exception ~= '' then redis.call('HSET', @session, 'exception', @exception) end
local open = redis.call('HGETALL', @openIncidents)
for i = 1, #open, 2 do close_incident(@incidents, @openIncidents, open[i], open[i + 1], now) end
if @event ~= '' then redis.call('RPUSH', @outbox, @event) end
if @auditId ~= '' then redis.call('HSETNX', @audit, @auditId, @auditEntry) end
return {'ok'}
