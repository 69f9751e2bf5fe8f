-- Claims a new attempt of a learner at an exam (StartSession): counts the attempts not reset against the exam's limit
-- and claims, in one step in the claim's slot, so concurrent starts never exceed the limit. The claim names the
-- learner's latest attempt; it is taken only if it still names @expected (the attempt the caller read as ended; ''
-- when it read none), else the caller reads it again. @expectedReset '1': that attempt was read marked reset (a reset
-- cut off before it gave the attempt back: given back here). A claim written before attempts were counted counts.
-- Replies {'ok', attempt number} | {'held', session id} | {'exhausted', attempts used}.
local current = redis.call('GET', @claim)
if current and current ~= @expected then return {'held', current} end
if current and redis.call('HEXISTS', @attempts, current) == 0 then
  redis.call('HSET', @attempts, current, redis.call('HLEN', @attempts) + 1)
  redis.call('SADD', @spent, current)
end
if current and @expectedReset == '1' then redis.call('SREM', @spent, current) end
local used = redis.call('SCARD', @spent)
if used >= tonumber(@limit) then return {'exhausted', used} end
local n = redis.call('HLEN', @attempts) + 1
redis.call('SET', @claim, @sessionId)
redis.call('HSET', @attempts, @sessionId, n)
redis.call('SADD', @spent, @sessionId)
return {'ok', n}
