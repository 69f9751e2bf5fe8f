-- Sets a learner's extra time on an exam (milliseconds) and writes the grant's audit entry (auditId, auditEntry:
-- AuditEntry) in the same step; both keys carry the exam's hash tag. Replies 1.
redis.call('HSET', @extra, @learnerId, @extraMs)
if @auditId ~= '' then redis.call('HSETNX', @audit, @auditId, @auditEntry) end
return 1
