-- Records an action that writes nothing else (a results export): the entry and its place in the course's audit index,
-- both under the course's hash tag, in one step. The entry is written once (HSETNX): no script changes an entry.
-- Replies 1.
redis.call('HSETNX', @entries, @auditId, @auditEntry)
redis.call('ZADD', @index, 0, @member)
return 1
