-- Forgets an attempt (a start giving up, a session erased or purged): it no longer counts nor numbers, and the claim,
-- if it still names that session, goes back to @previous (the attempt it named before that start; '' for none).
redis.call('HDEL', @attempts, @sessionId)
redis.call('SREM', @spent, @sessionId)
if redis.call('GET', @claim) == @sessionId then
  if @previous ~= '' then redis.call('SET', @claim, @previous) else redis.call('DEL', @claim) end
  return 1
end
return 0
