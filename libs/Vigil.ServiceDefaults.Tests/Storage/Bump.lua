-- A test script with named parameters and an include.
-- include: counter.lua
local n = bump(@counter, @by)
return {n, @label}
