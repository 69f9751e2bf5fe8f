-- Variadic: a learner's keys are known only from their index set.
-- Erases everything of a learner in one step, provided the index still lists only keys the caller declared (else
-- replies {-1} and the caller reads the index again). The idempotent replies go without being counted.
-- KEYS: 1 the learner record, 2 the index, 3.. the index's members as read. ARGV: 1 the learner's key root (every
-- part of the learner starts with it).
-- Replies {photos, verifications, learner record erased (1/0), its canonical email ('' when none)}.
local declared = {}
for i = 3, #KEYS do declared[KEYS[i]] = true end
for _, k in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if not declared[k] then return {-1} end
end
local root = ARGV[1]
local photos, verifications = 0, 0
for i = 3, #KEYS do
  local part = string.sub(KEYS[i], #root + 1)
  if redis.call('DEL', KEYS[i]) == 1 then
    if string.sub(part, 1, 7) == ':photo:' then photos = photos + 1
    elseif string.sub(part, 1, 7) == ':verif:' then verifications = verifications + 1 end
  end
end
redis.call('DEL', KEYS[2])
local canonical = redis.call('HGET', KEYS[1], 'canonical') or ''
local learner = redis.call('DEL', KEYS[1])
return {photos, verifications, learner, canonical}
