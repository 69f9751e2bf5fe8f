-- The heartbeat-gap check of one session: opens a connection-lost incident starting at the last heartbeat
-- when the gap exceeds the exam's limit, plus the slack of heartbeats the stream may have seen and not written
-- (hb_slack_ms: 0 once its stream ended, HeartbeatFlush). Replies {'gone'} (finished or missing) | {'later', due ms} |
-- {'open'} (already open) | {'opened'}.
-- include: states.lua
-- include: incidents.lua
local f = redis.call('HMGET', @session, 'state', 'last_hb', 'started_at', 'gap_ms', 'hb_slack_ms')
if f[1] ~= IN_PROGRESS then return {'gone'} end
local last = f[2] or f[3]
local due = tonumber(last) + tonumber(f[4]) + tonumber(f[5] or '0')
if tonumber(@now) < due then return {'later', tostring(due)} end
if redis.call('HEXISTS', @openIncidents, '1') == 1 then return {'open'} end
open_incident(@session, @incidents, @openIncidents, '1', last, @details)
return {'opened'}
