-- A submission (any of the three kinds) overrides an expiry; a second submission changes nothing.
-- include: facts.lua
return run(function()
  if redis.call('HGET', @session, 'sub_state') == 'validated' then return 'superseded' end
  redis.call('HSET', @session, 'sub_state', 'validated', 'exam_title', @examTitle, 'learner_name', @learnerName,
    'sub_kind', @kind, 'submitted_at', @submittedAt, 'score', @score, 'max_score', @maxScore, 'pass_mark', @passMark,
    'id_photo', @idPhoto)
  return 'applied'
end)
