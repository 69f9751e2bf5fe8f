-- Shared by the test scripts: adds to a counter and replies the new value.
local function bump(key, by) return redis.call('INCRBY', key, by) end
