-- Variadic: takes a session out of every review set of its course and out of the member map (the retention purge,
-- once the session is gone: a reader meanwhile skips and drops the entry itself). Same slot: the course's.
-- KEYS: 1 the member map, then every review set. ARGV: 1 the session id. Replies 1 when it was indexed, else 0.
local member = redis.call('HGET', KEYS[1], ARGV[1])
if not member then return 0 end
for i = 2, #KEYS do redis.call('ZREM', KEYS[i], member) end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
