-- One service reported its part of an erasure request done. The first report of each service counts (a repeated one
-- changes nothing). With the last of @services, the request is complete: the learner's id leaves the record (its
-- digest stays, so that the same request id is still recognised) and the record expires after @keepMs; a re-sent
-- event still waiting in its outbox is dropped (every service has done its part).
-- Replies 'recorded', 'duplicate', 'completed' or 'unknown' (no such request).
if redis.call('EXISTS', @request) == 0 then return 'unknown' end
if redis.call('HSETNX', @request, @service .. '_at', @completedAt) == 0 then return 'duplicate' end
redis.call('HSET', @request, @service .. '_records', @records)
for name in string.gmatch(@services, '[^,]+') do
  if redis.call('HEXISTS', @request, name .. '_at') == 0 then return 'recorded' end
end
redis.call('HSET', @request, 'state', 'complete', 'completed_at', @completedAt)
redis.call('HDEL', @request, 'learner_id')
redis.call('DEL', @outbox)
redis.call('PEXPIRE', @request, @keepMs)
return 'completed'
