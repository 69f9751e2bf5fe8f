-- Variadic: puts one finished session in its course's review sets and takes it out of the ones whose rule no
-- longer holds (ReviewFilters), in one step. Every key is of the same course (hash tag {courseId}): one slot.
-- The sets are sorted sets of score 0 ordered by member, "<finished at, ms, 13 digits>|<session id>": a member
-- never changes, so a cursor (the last member read) stays valid whatever moves between the sets. The course's
-- member map (session id -> member) lets a purge find the member again (ReviewUnindex).
-- KEYS: 1 the member map, then the sets to add to, then the sets to remove from.
-- ARGV: 1 the member, 2 how many KEYS after the first are sets to add to, 3 the session id.
local adds = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[3], ARGV[1])
for i = 2, #KEYS do
  if i <= adds + 1 then
    redis.call('ZADD', KEYS[i], 0, ARGV[1])
  else
    redis.call('ZREM', KEYS[i], ARGV[1])
  end
end
return #KEYS - 1
