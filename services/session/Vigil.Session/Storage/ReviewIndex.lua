-- Variadic: puts one finished session in its course's review sets and takes it out of the ones whose rule no
-- longer holds (ReviewFilters), in one step. Every key is a set of the same course (hash tag {courseId}): one slot.
-- The sets are sorted sets of score 0 ordered by member, "<finished at, ms, 13 digits>|<session id>": a member
-- never changes, so a cursor (the last member read) stays valid whatever moves between the sets.
-- KEYS: the sets to add to, then the sets to remove from. ARGV: 1 the member, 2 how many KEYS are sets to add to.
local adds = tonumber(ARGV[2])
for i = 1, #KEYS do
  if i <= adds then
    redis.call('ZADD', KEYS[i], 0, ARGV[1])
  else
    redis.call('ZREM', KEYS[i], ARGV[1])
  end
end
return #KEYS
