-- Stores a new exam (version 1) unless it exists. Replies 1 when created, 0 when it existed.
-- Its audit entry (auditId, auditEntry: AuditEntry) is written in the same step (AuditTrail).
if redis.call('EXISTS', @exam) == 1 then return 0 end
redis.call('HSET', @exam, 'def', @definition, 'course', @courseId, 'version', @version)
if @auditId ~= '' then redis.call('HSETNX', @audit, @auditId, @auditEntry) end
return 1
