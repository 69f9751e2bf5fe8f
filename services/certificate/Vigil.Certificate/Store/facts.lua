-- Shared by the three fact scripts: an erased session (tombstone) ignores every event; SADD of the event id is the
-- dedupe, in the same step; the session's identity is set once. run(apply) runs the fact's own rule (apply replies
-- 'applied' or 'superseded') and replies {outcome, the session's hash after it}, or {'erased'} alone.
-- Retention in the same step: the applied-event set lives @eventsTtlMs (the redelivery horizon) after its last event;
-- a record without an expiry yet gets @recordTtlMs (the projection sets its definitive one).
local function run(apply)
  if redis.call('HEXISTS', @session, 'erased') == 1 then return {'erased'} end
  local outcome = 'duplicate'
  if redis.call('SADD', @events, @eventId) == 1 then
    redis.call('PEXPIRE', @events, @eventsTtlMs)
    redis.call('HSETNX', @session, 'learner_id', @learnerId)
    redis.call('HSETNX', @session, 'exam_id', @examId)
    redis.call('HSETNX', @session, 'course_id', @courseId)
    outcome = apply()
    if outcome == 'applied' then redis.call('HINCRBY', @session, 'facts_rev', 1) end
  end
  if redis.call('PTTL', @session) == -1 then redis.call('PEXPIRE', @session, @recordTtlMs) end
  return {outcome, redis.call('HGETALL', @session)}
end
