-- Only a higher version replaces the decision in force; a decision before its submission is simply kept.
-- include: facts.lua
return run(function()
  local current = tonumber(redis.call('HGET', @session, 'dec_version') or '0')
  if tonumber(@version) <= current then return 'superseded' end
  redis.call('HSET', @session, 'dec_version', @version, 'dec_outcome', @outcome, 'dec_reason_code', @reasonCode,
    'dec_reason_text', @reasonText, 'decided_at', @decidedAt)
  return 'applied'
end)
