-- Retention: deletes a session whose time is up, with everything it holds (its audit entries too), or what is left of it after an erasure.
-- Only if it is still the one read (same decision version), has ended, and its outbox is empty (an event not yet
-- relayed is never dropped). Replies {'purged', answers, incidents, decisions}, {'purged-erased'}, {'changed'} or
-- {'gone'}.
-- include: states.lua
if redis.call('EXISTS', @session) == 1 then
  local f = redis.call('HMGET', @session, 'state', 'decision_version')
  if f[1] == IN_PROGRESS or tonumber(f[2] or '0') ~= tonumber(@decisionVersion) then return {'changed'} end
  if redis.call('LLEN', @outbox) > 0 then return {'changed'} end
  local answers = redis.call('HLEN', @answers)
  local incidents = redis.call('HLEN', @incidents)
  local decisions = redis.call('LLEN', @decisions)
  redis.call('DEL', @session, @answers, @answerMeta, @incidents, @openIncidents, @decisions, @requests, @erased, @secondLooks, @audit)
  return {'purged', answers, incidents, decisions}
end
if redis.call('DEL', @erased) == 1 then
  redis.call('DEL', @audit)
  return {'purged-erased'}
end
return {'gone'}
