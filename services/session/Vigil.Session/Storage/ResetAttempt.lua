-- Marks a finished session as a reset attempt (staff: ExamService.ResetAttempt): who, when and why, with the reset's
-- audit entry (auditId, auditEntry: AuditEntry), in one step. The session is otherwise kept as it was. Refused while it
-- runs; a session already reset keeps its first mark.
-- Replies {'ok'} | {'dup', reset at ms, reset by} | {'state'} (in progress) | {'missing'}.
-- include: states.lua
local f = redis.call('HMGET', @session, 'state', 'reset_at', 'reset_by')
if not f[1] then return {'missing'} end
if f[1] == IN_PROGRESS then return {'state'} end
if f[2] then return {'dup', f[2], f[3]} end
redis.call('HSET', @session, 'reset_at', @resetAt, 'reset_by', @resetBy, 'reset_reason', @reason)
if @auditId ~= '' then redis.call('HSETNX', @audit, @auditId, @auditEntry) end
return {'ok'}
