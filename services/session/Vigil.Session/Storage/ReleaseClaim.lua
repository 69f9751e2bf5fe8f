-- Releases a learner's claim on an exam if it still names the session of the start that is giving up.
if redis.call('GET', @claim) == @sessionId then return redis.call('DEL', @claim) end
return 0
