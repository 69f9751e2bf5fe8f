-- A service reported its part of an erasure request done (report @eventId). Each report message counts once (the
-- same message redelivered changes nothing: 'duplicate'); the records a service erased add up over its reports (two
-- deliveries of the request handled side by side each erase part, each erased record counted by the one that erased
-- it). A service's first report marks it complete. With the last of @services, the request is complete: the learner's
-- id leaves the record (its digest stays, so that the same request id is still recognised), the record expires after
-- @keepMs, and a re-sent event still waiting in its outbox is dropped (every service has done its part).
-- Replies 'recorded' (a service's first report), 'added' (a later report of a service that had reported: its count
-- added), 'duplicate', 'completed' or 'unknown' (no such request).
if redis.call('EXISTS', @request) == 0 then return 'unknown' end
if redis.call('HSETNX', @request, 'report:' .. @eventId, @service) == 0 then return 'duplicate' end
redis.call('HINCRBY', @request, @service .. '_records', @records)
if redis.call('HSETNX', @request, @service .. '_at', @completedAt) == 0 then return 'added' end
for name in string.gmatch(@services, '[^,]+') do
  if redis.call('HEXISTS', @request, name .. '_at') == 0 then return 'recorded' end
end
redis.call('HSET', @request, 'state', 'complete', 'completed_at', @completedAt)
redis.call('HDEL', @request, 'learner_id')
redis.call('DEL', @outbox)
redis.call('PEXPIRE', @request, @keepMs)
return 'completed'
