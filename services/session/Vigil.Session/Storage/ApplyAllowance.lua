-- Applies a learner's allowance to their session still in progress: the time multiplier, the grace period after the
-- deadline and the headphones allowance are recorded on the session, and the deadline moves to start + time limit x
-- multiplier + extra (extraMs: the learner's extra time). Replies {deadline ms, grace ms}, or {0} when the session is
-- not in progress.
-- include: states.lua
local f = redis.call('HMGET', @session, 'state', 'started_at', 'exam_ms')
if f[1] ~= IN_PROGRESS or not f[3] then return {0} end
local deadline = tonumber(f[2]) + math.floor(tonumber(f[3]) * tonumber(@timeMultiplier)) + tonumber(@extraMs)
redis.call('HSET', @session, 'deadline', tostring(deadline), 'time_multiplier', @timeMultiplier, 'grace_ms', @graceMs,
  'allow_headphones', @allowHeadphones)
return {tostring(deadline), @graceMs}
