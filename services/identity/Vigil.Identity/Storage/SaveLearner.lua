-- Writes the learner record (registered_at kept from the first registration) with the call's idempotent reply,
-- listed in the learner's index. Replies the canonical email the record had before ('' when none).
local previous = redis.call('HGET', @learner, 'canonical') or ''
redis.call('HSET', @learner, 'email', @email, 'canonical', @canonical, 'display_name', @displayName)
redis.call('HSETNX', @learner, 'registered_at', @registeredAt)
redis.call('SET', @reply, @response, 'PX', @windowMs)
redis.call('SADD', @index, @reply)
if redis.call('PTTL', @index) < tonumber(@windowMs) then redis.call('PEXPIRE', @index, @windowMs) end
return previous
