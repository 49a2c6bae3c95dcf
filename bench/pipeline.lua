-- wrk script: send requests 16 at a time on each connection (pipelining).
local depth = 16
local batch
init = function(_args)
  local r = {}
  for i = 1, depth do r[i] = wrk.format() end
  batch = table.concat(r)
end
request = function() return batch end
