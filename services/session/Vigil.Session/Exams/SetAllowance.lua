-- Sets a learner's allowance on an exam (protobuf Allowance, replacing any earlier one), remembers the request and
-- writes the grant's audit entry (auditId, auditEntry: AuditEntry), in one step; every key carries the exam's hash tag.
-- Replies 1 when set, 0 when this request already set one (nothing written).
if redis.call('HEXISTS', @requests, @requestKey) == 1 then return 0 end
redis.call('HSET', @allowances, @learnerId, @allowance)
redis.call('HSET', @requests, @requestKey, 1)
if @auditId ~= '' then redis.call('HSETNX', @audit, @auditId, @auditEntry) end
return 1
