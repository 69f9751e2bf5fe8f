-- A session joins its learner's dashboard index, which then lives @ttlMs (the certificates' retention, the longest
-- any of its sessions' records can live) from this write: once every record it lists has expired, so has the index
-- (no learner id stays behind). Replies 1 when added, 0 when it was there.
local added = redis.call('SADD', @index, @sessionId)
redis.call('PEXPIRE', @index, @ttlMs)
return added
