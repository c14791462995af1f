local current = redis.call('HGET', KEYS[1], 'maxsize')
if current then return current end
redis.call('HSET', KEYS[1], 'maxsize', ARGV[1])
return ARGV[1]
