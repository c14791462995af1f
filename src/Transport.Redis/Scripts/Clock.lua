-- The server's clock in milliseconds, as `now`: clients with skewed clocks still agree on when a lease ends.
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
