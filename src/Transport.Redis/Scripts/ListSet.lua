-- KEYS: list. ARGV: index (negative from the end), value. Returns 1, or 0 if the list has no element there.
local length = redis.call('LLEN', KEYS[1])
local index = tonumber(ARGV[1])
if index < 0 then index = index + length end
if index < 0 or index >= length then return 0 end
redis.call('LSET', KEYS[1], index, ARGV[2])
return 1
