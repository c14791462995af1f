-- KEYS: map. ARGV: field. Removes it and returns the value it had, or nil.
local found = redis.call('HGET', KEYS[1], ARGV[1])
if found then redis.call('HDEL', KEYS[1], ARGV[1]) end
return found
