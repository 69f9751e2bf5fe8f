-- Stores a new exam (version 1) unless it exists. Replies 1 when created, 0 when it existed.
if redis.call('EXISTS', @exam) == 1 then return 0 end
redis.call('HSET', @exam, 'def', @definition, 'course', @courseId, 'version', @version)
return 1
