-- Variadic: the photos of a verification are known only from its record.
-- A board decision on the exam: the verification record and its photos expire at the decision plus the appeal
-- window (ARGV[1], Unix ms), sooner or later than the retention they were written with. Order-safe: each photo keeps
-- the latest such time it was given (decision_expires_at), and an older decision never moves it back. The index
-- (which erasure reads) is kept at least as long as what it lists.
-- Photos a retake replaced but a session pinned (PinPhotos) are passed too: only the photos of this exam (ARGV[2])
-- move, so the caller may pass every photo the learner's index lists.
-- KEYS: 1 the verification record, 2 the learner's index, 3.. photos. ARGV: 1 the time, 2 the exam. Replies how many photos moved.
local at = tonumber(ARGV[1])
local moved = 0
for i = 3, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 and redis.call('HGET', KEYS[i], 'exam') == ARGV[2] then
    local given = redis.call('HGET', KEYS[i], 'decision_expires_at')
    if not given or tonumber(given) < at then
      redis.call('HSET', KEYS[i], 'decision_expires_at', at, 'expires_at', at)
      redis.call('PEXPIREAT', KEYS[i], at)
      moved = moved + 1
    end
  end
end
if moved > 0 then
  if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIREAT', KEYS[1], at) end
  local until_ = redis.call('PEXPIRETIME', KEYS[2])
  if until_ >= 0 and until_ < at then redis.call('PEXPIREAT', KEYS[2], at) end
end
return moved
