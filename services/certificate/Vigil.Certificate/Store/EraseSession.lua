-- Erasure of one session of the learner: everything personal goes; a tombstone stays so that redelivered events
-- are ignored. Replies {1, the certificate's code ('' when none)}, or {0, ''} when already erased or not the learner's.
if redis.call('HEXISTS', @session, 'erased') == 1 then return {0, ''} end
if redis.call('HGET', @session, 'learner_id') ~= @learnerId then return {0, ''} end
local code = redis.call('HGET', @session, 'c_code') or ''
redis.call('DEL', @session)
redis.call('HSET', @session, 'erased', '1')
return {1, code}
