-- Replaces an exam's definition if its version is still expectedVersion, remembering the request.
-- Replies {'ok'} | {'dup', version} (this request already did it) | {'version', current} | {'missing'}.
-- Its audit entry (auditId, auditEntry: AuditEntry) is written in the same step (AuditTrail).
local done = redis.call('HGET', @requests, @requestKey)
if done then return {'dup', done} end
local v = redis.call('HGET', @exam, 'version')
if not v then return {'missing'} end
if tonumber(v) ~= tonumber(@expectedVersion) then return {'version', v} end
redis.call('HSET', @exam, 'def', @definition, 'version', @version)
redis.call('HSET', @requests, @requestKey, @version)
if @auditId ~= '' then redis.call('HSETNX', @audit, @auditId, @auditEntry) end
return {'ok'}
