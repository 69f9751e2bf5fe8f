-- Variadic (a variable number of values): after the broker confirmed them, removes the published lines, releases
-- the lease if this holder still holds it, and replies how many entries are left.
-- KEYS: lease, outbox. ARGV: holder, then the published lines.
for i = 2, #ARGV do redis.call('LREM', KEYS[2], 1, ARGV[i]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return redis.call('LLEN', KEYS[2])
