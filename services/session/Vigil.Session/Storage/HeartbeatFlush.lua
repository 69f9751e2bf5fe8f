-- The end of an exam stream that kept heartbeats in memory (it writes one only once per
-- Session:HeartbeatWriteFraction of the gap, or when a signal changes): records its last heartbeat and that no
-- unwritten one can follow it (hb_slack_ms 0), so that the gap check of any replica counts from the true last
-- heartbeat. Nothing when the session ended, or when a later heartbeat (a newer stream's) is already recorded.
-- Replies 1 (written) or 0.
-- include: states.lua
local f = redis.call('HMGET', @session, 'state', 'last_hb')
if f[1] ~= IN_PROGRESS then return 0 end
if f[2] and tonumber(f[2]) > tonumber(@lastSeen) then return 0 end
redis.call('HSET', @session, 'last_hb', @lastSeen, 'hb_slack_ms', '0')
return 1
