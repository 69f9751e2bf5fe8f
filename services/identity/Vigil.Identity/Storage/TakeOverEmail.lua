-- Replaces a stale mailbox claim with a new one, only if the claim is still the one read. Replies 1 when taken.
if redis.call('GET', @email) ~= @stale then return 0 end
redis.call('SET', @email, @claim)
return 1
