-- A learner's problem report: an incident of kind 7 (PROBLEM_REPORTED) on the session's timeline, starting and ending
-- when reported, with the description as its details; the session's count of reports and the request id, in one
-- step. Accepted while the session runs and until windowMs after its end (finished_at). A retry of the same request
-- returns the incident it recorded.
-- Replies {'ok', incident id, 1 when after the end else 0} | {'dup', incident id} | {'closed', window end ms} | {'missing'}.
-- include: states.lua
-- include: incidents.lua
local done = redis.call('HGET', @requests, @requestKey)
if done then return {'dup', done} end
local f = redis.call('HMGET', @session, 'state', 'finished_at')
if not f[1] then return {'missing'} end
local now = @now
local afterEnd = 0
if f[1] ~= IN_PROGRESS then
  local closes = tonumber(f[2] or '0') + tonumber(@windowMs)
  if tonumber(now) > closes then return {'closed', tostring(closes)} end
  afterEnd = 1
end
local id = 'inc-' .. redis.call('HINCRBY', @session, 'incident_seq', 1)
redis.call('HSET', @incidents, id, KIND_PROBLEM_REPORTED .. '|' .. now .. '|' .. now .. '|' .. @description)
redis.call('HINCRBY', @session, 'problem_reports', 1)
redis.call('HSET', @requests, @requestKey, id)
return {'ok', id, afterEnd}
