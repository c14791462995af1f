-- KEYS: list. ARGV: start, end, as a Python slice's (end not included, negative from the end, clamped to the list).
local length = redis.call('LLEN', KEYS[1])
local function clamp(i)
  i = tonumber(i)
  if i < 0 then i = i + length end
  if i < 0 then return 0 end
  if i > length then return length end
  return i
end
local first, last = clamp(ARGV[1]), clamp(ARGV[2])
if last <= first then return {} end
return redis.call('LRANGE', KEYS[1], first, last - 1)
