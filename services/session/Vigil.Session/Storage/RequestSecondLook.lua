-- A board member marks a finished session for a second look: the second look (protobuf SecondLook) is appended to the
-- session's second looks, the session holds who asked while it is open (second_look_by), and the request id, in one
-- step. Refused while the session runs or while another second look is open. A retry of the same request returns
-- the position of the one it recorded.
-- Replies {'ok', count} | {'dup', position} | {'state'} (in progress) | {'open', requested by} | {'missing'}.
-- Its audit entry (auditId, auditEntry: AuditEntry) is written in the same step (AuditTrail).
-- include: states.lua
local done = redis.call('HGET', @requests, @requestKey)
if done then return {'dup', done} end
local f = redis.call('HMGET', @session, 'state', 'second_look_by')
if not f[1] then return {'missing'} end
if f[1] == IN_PROGRESS then return {'state'} end
if f[2] then return {'open', f[2]} end
local n = redis.call('RPUSH', @secondLooks, @entry)
redis.call('HSET', @session, 'second_look_by', @requestedBy)
redis.call('HSET', @requests, @requestKey, n)
if @auditId ~= '' then redis.call('HSETNX', @audit, @auditId, @auditEntry) end
return {'ok', n}
