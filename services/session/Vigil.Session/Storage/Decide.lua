-- Records a board decision with its event in the outbox, if the decision in force is still expectedVersion. An open
-- second look is closed by the decision of another member (its entry, as the caller read it with secondLookCount
-- entries, becomes closedSecondLook); the member who asked for it is refused.
-- Replies {'ok'} | {'dup', version} (this request already recorded it) | {'version', current} |
-- {'state', current} (still in progress) | {'same', member} (the member who asked for the open second look) |
-- {'retry'} (the second looks changed since read) | {'missing'}.
-- Its audit entry (auditId, auditEntry: AuditEntry) is written in the same step (AuditTrail).
-- include: states.lua
local done = redis.call('HGET', @requests, @requestKey)
if done then return {'dup', done} end
local f = redis.call('HMGET', @session, 'state', 'decision_version', 'second_look_by')
if not f[1] then return {'missing'} end
if f[1] == IN_PROGRESS then return {'state', f[1]} end
local current = f[2] or '0'
if tonumber(current) ~= tonumber(@expectedVersion) then return {'version', current} end
if f[3] then
  if f[3] == @decidedBy then return {'same', f[3]} end
  if @closedSecondLook == '' or redis.call('LLEN', @secondLooks) ~= tonumber(@secondLookCount) then return {'retry'} end
  redis.call('LSET', @secondLooks, -1, @closedSecondLook)
  redis.call('HDEL', @session, 'second_look_by')
end
redis.call('RPUSH', @decisions, @decision)
redis.call('HSET', @session, 'decision_version', @version)
redis.call('RPUSH', @outbox, @event)
redis.call('HSET', @requests, @requestKey, @version)
if @auditId ~= '' then redis.call('HSETNX', @audit, @auditId, @auditEntry) end
return {'ok'}
