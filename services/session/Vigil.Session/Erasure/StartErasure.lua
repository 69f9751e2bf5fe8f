-- Records an erasure request with its LearnerErasureRequested event in the request's outbox, in one step (request and
-- outbox share the request's slot). When the request already exists for the same learner and is still pending, the
-- event is written again (a re-send: services that completed ignore it, the others erase). Replies 'started',
-- 'resent', 'complete' (nothing to send) or 'other' (the request id names the erasure of another learner).
local digest = redis.call('HGET', @request, 'learner_digest')
if digest then
  if digest ~= @learnerDigest then return 'other' end
  if redis.call('HGET', @request, 'state') == 'complete' then return 'complete' end
  redis.call('RPUSH', @outbox, @event)
  return 'resent'
end
redis.call('HSET', @request, 'learner_id', @learnerId, 'learner_digest', @learnerDigest, 'requested_at', @requestedAt,
  'requested_by', @requestedBy, 'reference', @reference, 'state', 'pending')
redis.call('RPUSH', @outbox, @event)
return 'started'
