-- Erasure of one session (its learner asked for it): everything about the learner goes in one step, and what the
-- board may still see (the erased record the caller built from the session as read: exam, course, state, times,
-- decisions without their notes; no learner, answers, incidents, photos or receipt) is written in its own key.
-- Only if the session is still the one read (same learner, state and decision version).
-- Replies 'erased', 'changed' (read it again), 'other' (another learner's), 'already' (only its erased record is
-- there) or 'gone' (nothing).
if redis.call('EXISTS', @session) == 0 then
  if redis.call('EXISTS', @erased) == 1 then return 'already' end
  return 'gone'
end
local f = redis.call('HMGET', @session, 'learner_id', 'state', 'decision_version')
if f[1] ~= @learnerId then return 'other' end
if f[2] ~= @state or tonumber(f[3] or '0') ~= tonumber(@decisionVersion) then return 'changed' end
redis.call('DEL', @session, @answers, @answerMeta, @incidents, @openIncidents, @decisions, @requests, @outbox, @secondLooks)
redis.call('HSET', @erased, 'record', @record, 'course_id', @courseId, 'deadline', @deadline, 'decided_at', @decidedAt,
  'erased_at', @erasedAt)
return 'erased'
