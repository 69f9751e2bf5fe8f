-- Removes a session from a due index (deadlines, heartbeat-due) only if its entry still has the score the
-- sweeper read: a deadline or a heartbeat that moved it meanwhile keeps it.
local score = redis.call('ZSCORE', @index, @sessionId)
if score and tonumber(score) == tonumber(@score) then return redis.call('ZREM', @index, @sessionId) end
return 0
