local count = #ARGV - 1
local max = tonumber(redis.call('HGET', KEYS[2], 'maxsize') or '0')
if max > 0 then count = math.min(count, max - redis.call('LLEN', KEYS[1])) end
if count <= 0 then return 0 end
local length = redis.call('RPUSH', KEYS[1], unpack(ARGV, 2, count + 1))
redis.call('INCRBY', KEYS[3], count)
if length == count then redis.call('PUBLISH', ARGV[1], 'put') end
return count
