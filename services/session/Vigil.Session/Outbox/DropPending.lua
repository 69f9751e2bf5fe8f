-- Drops a session from the outbox-pending index only if its last announcement is older than the bound
-- (a writer announces before it writes the outbox: a newer announcement keeps it).
local score = redis.call('ZSCORE', @pending, @sessionId)
if score and tonumber(score) < tonumber(@bound) then return redis.call('ZREM', @pending, @sessionId) end
return 0
