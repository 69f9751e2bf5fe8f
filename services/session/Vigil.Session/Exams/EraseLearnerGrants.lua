-- Erasure: removes one learner's extra time and allowance on one exam, in one step (both keys carry the exam's hash
-- tag). Replies how many entries it removed (0, 1 or 2).
return redis.call('HDEL', @extra, @learnerId) + redis.call('HDEL', @allowances, @learnerId)
