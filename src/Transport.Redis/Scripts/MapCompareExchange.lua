-- KEYS: map. ARGV: field, has value (1/0), value, has comparand (1/0), comparand.
local found = redis.call('HGET', KEYS[1], ARGV[1])
local matches
if ARGV[4] == '1' then matches = (found == ARGV[5]) else matches = (found == false) end
if not matches then return 0 end
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) else redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
