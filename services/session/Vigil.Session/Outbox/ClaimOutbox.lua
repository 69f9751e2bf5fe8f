-- Takes a session's outbox lease and reads the outbox in one step (lease and outbox share the session's slot).
-- Replies {'empty'} (nothing to relay: nothing written, no lease taken), {'busy'} (another relay holds it) or
-- {'ok', line...} (the lease is held: the caller completes with CompleteOutbox).
if redis.call('LLEN', @outbox) == 0 then return {'empty'} end
if not redis.call('SET', @lease, @holder, 'NX', 'PX', @leaseMs) then return {'busy'} end
local lines = redis.call('LRANGE', @outbox, 0, -1)
table.insert(lines, 1, 'ok')
return lines
