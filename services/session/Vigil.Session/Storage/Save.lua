-- One answer save. Stores the answer unless the question holds a newer sequence, and moves last_acked up.
-- Replies {'stored' | 'duplicate' (same sequence and digest) | 'stale' (an older sequence: nothing written),
-- the digest now stored, last acked}, or {'closed', state} | {'deadline'} | {'conflict', stored digest}
-- (same sequence, another answer) | {'reused', last acked} (a sequence at or below the last acknowledged one that is
-- neither a resend of this question's save nor older than it: sequences increase across the whole session, so it
-- was used for another save) | {'ahead', last acked} (more than @maxAhead past the last acknowledged) | {'missing'}.
-- include: states.lua
local st = redis.call('HMGET', @session, 'state', 'deadline', 'last_acked', 'grace_ms')
if not st[1] then return {'missing'} end
if st[1] ~= IN_PROGRESS then return {'closed', st[1]} end
-- A grace period (an allowance: grace_ms) keeps saves open after the deadline.
if tonumber(@now) >= tonumber(st[2]) + tonumber(st[4] or '0') then return {'deadline'} end
local seq = tonumber(@sequence)
local acked = st[3] or '0'
if seq > tonumber(acked) + tonumber(@maxAhead) then return {'ahead', acked} end
local outcome = 'stored'
local digest = @digest
local meta = redis.call('HGET', @answerMeta, @question)
if meta then
  local a = string.find(meta, '|', 1, true)
  local b = string.find(meta, '|', a + 1, true)
  local stored_seq = tonumber(string.sub(meta, 1, a - 1))
  local stored_digest = string.sub(meta, a + 1, b - 1)
  if seq == stored_seq then
    if stored_digest == digest then outcome = 'duplicate' else return {'conflict', stored_digest} end
  elseif seq < stored_seq then
    outcome = 'stale'
    digest = stored_digest
  end
end
if outcome == 'stored' and seq <= tonumber(acked) then return {'reused', acked} end
if outcome == 'stored' then
  redis.call('HSET', @answers, @question, @answer)
  redis.call('HSET', @answerMeta, @question, @sequence .. '|' .. @digest .. '|' .. @now)
  redis.call('HINCRBY', @session, 'rev', 1)
end
if seq > tonumber(acked) then
  acked = @sequence
  redis.call('HSET', @session, 'last_acked', acked)
end
return {outcome, digest, acked}
