-- Creates a session's hash unless it exists (a retried start finds it). Replies 1 when created, 0 when it existed.
-- The photo refs ('photoId|sha256|takenAtMs', '' when none) are the evidence pinned at the start; the learner's
-- allowance (time multiplier, grace after the deadline, headphones allowed) is recorded as it was at the start, and
-- which attempt of the learner at the exam the session is.
-- include: states.lua
if redis.call('EXISTS', @session) == 1 then return 0 end
redis.call('HSET', @session,
  'exam_id', @examId, 'course_id', @courseId, 'learner_id', @learnerId, 'learner_name', @learnerName,
  'learner_email', @learnerEmail,
  'state', IN_PROGRESS, 'started_at', @startedAt, 'deadline', @deadline, 'gap_ms', @gapMs, 'exam_ms', @examMs,
  'last_acked', 0, 'rev', 0, 'exam', @exam, 'id_photo', @idPhoto, 'face_photo', @facePhoto,
  'id_photo_ref', @idPhotoRef, 'face_photo_ref', @facePhotoRef,
  'start_request', @startRequest, 'decision_version', 0,
  'time_multiplier', @timeMultiplier, 'grace_ms', @graceMs, 'allow_headphones', @allowHeadphones, 'attempt', @attempt)
return 1
