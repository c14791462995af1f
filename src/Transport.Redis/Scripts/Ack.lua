local results = {}
local left
for i = 2, #ARGV do
  if redis.call('ZREM', KEYS[2], ARGV[i]) == 0 then
    results[i - 1] = -1
  else
    redis.call('HDEL', KEYS[1], ARGV[i])
    left = redis.call('DECR', KEYS[3])
    if left < 0 then
      redis.call('SET', KEYS[3], 0)
      left = 0
    end
    results[i - 1] = left
  end
end
if left and left <= 0 then redis.call('PUBLISH', ARGV[1], 'done') end
return results
