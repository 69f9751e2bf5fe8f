-- A learner's data was erased for a request recorded at @requestedAt (Unix ms): facts about them from before it that
-- arrive later (redelivered, replayed) are ignored. The tombstone names the learner by a digest only, keeps the latest
-- request time and the time of the erasure ('requestedAt|erasedAt'), and lives @horizonMs (the redelivery horizon)
-- after the last erasure. Replies the request time kept.
local at = tonumber(@requestedAt)
local current = redis.call('GET', @tombstone)
if current then
  local previous = tonumber(string.match(current, '^(%d+)'))
  if previous and previous > at then at = previous end
end
redis.call('SET', @tombstone, string.format('%d', at) .. '|' .. @erasedAt, 'PX', @horizonMs)
return at
