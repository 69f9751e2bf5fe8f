-- Moves the deadline of a session still in progress to start + time limit + extra (extra time granted after
-- the start). Replies the new deadline (ms), or 0 when the session is not in progress.
-- include: states.lua
local f = redis.call('HMGET', @session, 'state', 'started_at', 'exam_ms')
if f[1] ~= IN_PROGRESS or not f[3] then return 0 end
local deadline = tonumber(f[2]) + tonumber(f[3]) + tonumber(@extraMs)
redis.call('HSET', @session, 'deadline', tostring(deadline))
return deadline
