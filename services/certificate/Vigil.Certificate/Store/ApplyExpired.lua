-- An expiry never overrides a submission.
-- include: facts.lua
return run(function()
  if redis.call('HEXISTS', @session, 'sub_state') == 1 then return 'superseded' end
  redis.call('HSET', @session, 'sub_state', 'expired', 'exam_title', @examTitle, 'submitted_at', @expiredAt)
  return 'applied'
end)
