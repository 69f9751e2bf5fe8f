-- Remembers the reply of a mutating call for the idempotency window, listed in the learner's index.
redis.call('SET', @reply, @response, 'PX', @windowMs)
redis.call('SADD', @index, @reply)
if redis.call('PTTL', @index) < tonumber(@windowMs) then redis.call('PEXPIRE', @index, @windowMs) end
return 1
