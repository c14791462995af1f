local current = redis.call('GET', KEYS[1]) or '0'
local same
if ARGV[3] == 'i' then same = current == ARGV[2] else same = tonumber(current) == tonumber(ARGV[2]) end
if same then redis.call('SET', KEYS[1], ARGV[1]) end
return current
