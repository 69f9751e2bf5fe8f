-- Erasure of one session: everything personal goes (facts, projection, certificate); a tombstone stays, with the
-- applied-event set, for @horizonMs (the redelivery horizon), so that a redelivered event is ignored until none can
-- come any more. With @learnerId set, only that learner's session (an erasure request); with '' whatever it holds (a
-- fact about an erased learner arrived: the session is made a tombstone even before it existed).
-- With @notAfter set (ms), a session submitted or expired after it is left alone: an erasure request redelivered
-- after the learner came back must not erase their new result (facts after the request are theirs to keep).
-- Replies {1, the certificate's code ('' when none)}, {0, ''} when already erased or another learner's, {2, ''} when
-- left alone for @notAfter.
if redis.call('HEXISTS', @session, 'erased') == 1 then return {0, ''} end
if @learnerId ~= '' and redis.call('HGET', @session, 'learner_id') ~= @learnerId then return {0, ''} end
if @notAfter ~= '' then
  local at = redis.call('HGET', @session, 'submitted_at')
  if at and tonumber(at) > tonumber(@notAfter) then return {2, ''} end
end
local code = redis.call('HGET', @session, 'c_code') or ''
redis.call('DEL', @session)
redis.call('HSET', @session, 'erased', '1')
redis.call('PEXPIRE', @session, @horizonMs)
if redis.call('EXISTS', @events) == 1 then redis.call('PEXPIRE', @events, @horizonMs) end
return {1, code}
