-- Moves the deadline of a session still in progress to start + time limit x its time multiplier (an allowance; 1
-- when none) + extra (extra time granted after the start). Replies {deadline ms, grace ms} (the grace period after
-- it, an allowance), or {0} when the session is not in progress.
-- include: states.lua
local f = redis.call('HMGET', @session, 'state', 'started_at', 'exam_ms', 'time_multiplier', 'grace_ms')
if f[1] ~= IN_PROGRESS or not f[3] then return {0} end
local deadline = tonumber(f[2]) + math.floor(tonumber(f[3]) * tonumber(f[4] or '1')) + tonumber(@extraMs)
redis.call('HSET', @session, 'deadline', tostring(deadline))
return {tostring(deadline), f[5] or '0'}
