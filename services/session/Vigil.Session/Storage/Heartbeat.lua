-- A heartbeat: records its time, closes an open connection-lost incident, and opens or closes the rule
-- incidents (kinds 2..6: headphones, camera off, screen share stopped, focus lost, microphone off; a flag is
-- '1' when breached). @slackMs: how long after it the stream may see heartbeats it does not write (the gap check adds
-- it to the gap; 0 when every heartbeat is written). Replies {'ok', deadline ms, kinds opened now...} or
-- {'closed', state} | {'missing'}.
-- include: states.lua
-- include: incidents.lua
local f = redis.call('HMGET', @session, 'state', 'deadline', 'allow_headphones')
if not f[1] then return {'missing'} end
if f[1] ~= IN_PROGRESS then return {'closed', f[1]} end
local now = @now
redis.call('HSET', @session, 'last_hb', now, 'hb_slack_ms', @slackMs)
-- The open incidents in one read (usually none): only those are closed, only missing ones opened.
local open = {}
local flat = redis.call('HGETALL', @openIncidents)
for i = 1, #flat, 2 do open[flat[i]] = flat[i + 1] end
if open['1'] then close_incident(@incidents, @openIncidents, '1', open['1'], now) end
-- A learner allowed headphones (an allowance: allow_headphones) opens no headphones incident; others do.
local headphones = @headphones
if f[3] == '1' then headphones = '0' end
local breached = { ['2'] = headphones, ['3'] = @cameraOff, ['4'] = @screenShareOff, ['5'] = @focusLost, ['6'] = @microphoneOff }
local reply = {'ok', f[2]}
for k = 2, 6 do
  local kind = tostring(k)
  if breached[kind] == '1' then
    if not open[kind] then
      open_incident(@session, @incidents, @openIncidents, kind, now, '')
      table.insert(reply, kind)
    end
  elseif open[kind] then
    close_incident(@incidents, @openIncidents, kind, open[kind], now)
  end
end
return reply
