-- Variadic (a test): deletes every key it is given, replies how many existed.
local n = 0
for i = 1, #KEYS do n = n + redis.call('DEL', KEYS[i]) end
return n
