-- Variadic: how many photos a step replaces varies (none, the old ID photo, the old face photo, both).
-- Writes a learner's verification for one exam if it is still what the caller read (compare-and-set on the stored
-- record), with the call's idempotent reply, the new photo if any and the deletion of the replaced photos, in one
-- step; every key written is listed in the learner's index (erasure reaches them all).
-- KEYS: 1 verification, 2 the learner's index, 3 the idempotent reply, 4.. the replaced photos, then the new photo if any.
-- ARGV: 1 the record as read ('' when none), 2 the new record, 3 retention (ms), 4 the reply, 5 idempotency window (ms),
-- 6 how many photos are replaced, 7 '1' with a new photo, then its 8 data, 9 exam, 10 kind, 11 taken_at, 12 expires_at, 13 key_id.
-- A replaced photo pinned to a session (PinPhotos) is kept until its own retention ends: the board reviews the
-- photos accepted when the session started, whatever the learner uploads afterwards.
-- Replies 1 when written, 0 when the record changed since it was read.
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[3])
local window = tonumber(ARGV[5])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('SADD', KEYS[2], KEYS[1])
redis.call('SET', KEYS[3], ARGV[4], 'PX', window)
redis.call('SADD', KEYS[2], KEYS[3])
local replaced = tonumber(ARGV[6])
for i = 4, 3 + replaced do
  if redis.call('HEXISTS', KEYS[i], 'pinned_by') == 0 then
    redis.call('DEL', KEYS[i])
    redis.call('SREM', KEYS[2], KEYS[i])
  end
end
if ARGV[7] == '1' then
  local photo = KEYS[4 + replaced]
  redis.call('HSET', photo, 'data', ARGV[8], 'exam', ARGV[9], 'kind', ARGV[10], 'taken_at', ARGV[11], 'expires_at', ARGV[12], 'key_id', ARGV[13])
  redis.call('PEXPIRE', photo, ttl)
  redis.call('SADD', KEYS[2], photo)
end
local longest = math.max(ttl, window)
if redis.call('PTTL', KEYS[2]) < longest then redis.call('PEXPIRE', KEYS[2], longest) end
return 1
