-- Releases a mailbox claim, only if it is still the one read (held by the learner giving it up). Replies 1 when released.
if redis.call('GET', @email) ~= @held then return 0 end
return redis.call('DEL', @email)
