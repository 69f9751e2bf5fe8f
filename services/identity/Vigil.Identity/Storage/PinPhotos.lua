-- Variadic: pins a learner's accepted photos to the session about to start (one or two photos).
-- A pinned photo is not deleted when a retake replaces it (CommitVerification); it still expires with its retention
-- and erasure still reaches it (it stays in the learner's index). A photo already gone is skipped.
-- KEYS: the photos. ARGV: 1 the session id.
-- Replies how many photos were pinned.
local pinned = 0
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[i], 'pinned_by', ARGV[1])
    pinned = pinned + 1
  end
end
return pinned
