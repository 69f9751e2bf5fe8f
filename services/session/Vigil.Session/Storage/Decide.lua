-- Records a board decision with its event in the outbox, if the decision in force is still expectedVersion.
-- Replies {'ok'} | {'dup', version} (this request already recorded it) | {'version', current} |
-- {'state', current} (still in progress) | {'missing'}.
-- include: states.lua
local done = redis.call('HGET', @requests, @requestKey)
if done then return {'dup', done} end
local f = redis.call('HMGET', @session, 'state', 'decision_version')
if not f[1] then return {'missing'} end
if f[1] == IN_PROGRESS then return {'state', f[1]} end
local current = f[2] or '0'
if tonumber(current) ~= tonumber(@expectedVersion) then return {'version', current} end
redis.call('RPUSH', @decisions, @decision)
redis.call('HSET', @session, 'decision_version', @version)
redis.call('RPUSH', @outbox, @event)
redis.call('HSET', @requests, @requestKey, @version)
return {'ok'}
