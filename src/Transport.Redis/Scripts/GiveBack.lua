if redis.call('ZREM', KEYS[3], ARGV[1]) == 0 then return 0 end
local body = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('LPUSH', KEYS[1], body)
redis.call('PUBLISH', ARGV[2], 'put')
return 1
