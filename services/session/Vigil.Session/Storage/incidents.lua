-- The incident encoding, in one place: the incidents hash maps 'inc-N' to 'kind|startMs|endMs|details'
-- (endMs empty while open); the open-incidents hash maps a kind to the id of its open incident.
local function close_incident(incidents, open_incidents, kind, id, now)
  local v = redis.call('HGET', incidents, id)
  if v then
    local a = string.find(v, '|', 1, true)
    local b = string.find(v, '|', a + 1, true)
    local c = string.find(v, '|', b + 1, true)
    redis.call('HSET', incidents, id, string.sub(v, 1, b) .. now .. string.sub(v, c))
  end
  redis.call('HDEL', open_incidents, kind)
end
local function open_incident(session, incidents, open_incidents, kind, start, details)
  local id = 'inc-' .. redis.call('HINCRBY', session, 'incident_seq', 1)
  redis.call('HSET', incidents, id, kind .. '|' .. start .. '||' .. details)
  redis.call('HSET', open_incidents, kind, id)
end
-- The incident kind of a learner's problem report (IncidentKind.PROBLEM_REPORTED): never open, never closed.
local KIND_PROBLEM_REPORTED = '7'
