-- Erasure only (AuditTrail.PseudonymiseLearnerAsync): replaces one audit entry by its pseudonymised form (the learner
-- id replaced, the fact kept) if it is still the entry read. No RPC changes an entry: each writes it once, with HSETNX.
-- Replies 1 when rewritten, 0 when the entry is not the one read (gone, or already rewritten).
if redis.call('HGET', @entries, @entryId) ~= @expected then return 0 end
redis.call('HSET', @entries, @entryId, @entry)
return 1
