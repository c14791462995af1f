local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for i = #expired, 1, -1 do
  local body = redis.call('HGET', KEYS[2], expired[i])
  redis.call('ZREM', KEYS[3], expired[i])
  redis.call('HDEL', KEYS[2], expired[i])
  if body then redis.call('LPUSH', KEYS[1], body) end
end
local taken = {}
local count = 0
while count < tonumber(ARGV[4]) do
  local body = redis.call('LPOP', KEYS[1])
  if not body then break end
  count = count + 1
  local attempt = 1
  if #body > 5 and string.sub(body, 1, 4) == '\0BKR' then
    attempt = string.byte(body, 5) + 1
    body = string.sub(body, 6)
  end
  local id = 0
  if ARGV[1] == '1' then
    id = redis.call('INCR', KEYS[5])
    redis.call('HSET', KEYS[2], id, '\0BKR' .. string.char(math.min(attempt, 255)) .. body)
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), id)
  end
  table.insert(taken, id)
  table.insert(taken, body)
  table.insert(taken, attempt)
end
if count == 0 then return nil end
local left = redis.call('LLEN', KEYS[1])
if #expired > 0 and left > 0 then redis.call('PUBLISH', ARGV[3], 'put') end
local max = tonumber(redis.call('HGET', KEYS[6], 'maxsize') or '0')
if max > 0 and left < max and left + count >= max then redis.call('PUBLISH', ARGV[3], 'room') end
if ARGV[1] ~= '1' then
  local left = redis.call('DECRBY', KEYS[4], count)
  if left < 0 then redis.call('SET', KEYS[4], 0) end
  if left <= 0 then redis.call('PUBLISH', ARGV[3], 'done') end
end
return taken
