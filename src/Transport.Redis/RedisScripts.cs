namespace Broker.Transport.Redis;

/// <summary>The Lua that makes each queue and lock step atomic on the server. Times come from the server's clock
/// (TIME), so clients with skewed clocks still agree on when a lease ends.</summary>
internal static class RedisScripts
{
    private const string Now = "local clock = redis.call('TIME') local now = clock[1] * 1000 + math.floor(clock[2] / 1000) ";

    /// <summary>KEYS: meta. ARGV: maxsize. Returns the maxsize the queue has (the first declaration's).</summary>
    public const string Declare = """
        local current = redis.call('HGET', KEYS[1], 'maxsize')
        if current then return current end
        redis.call('HSET', KEYS[1], 'maxsize', ARGV[1])
        return ARGV[1]
        """;

    /// <summary>KEYS: items, meta, unfinished. ARGV: channel, then the bodies. Puts as many as the queue's maxsize
    /// leaves room for, in order, and returns how many. Only a put that ends an empty queue rings: a getter waits only
    /// after finding the queue empty, and the first put after that finds it empty too, so a ring for every put would
    /// only wake consumers that are busy.</summary>
    public const string Put = """
        local count = #ARGV - 1
        local max = tonumber(redis.call('HGET', KEYS[2], 'maxsize') or '0')
        if max > 0 then count = math.min(count, max - redis.call('LLEN', KEYS[1])) end
        if count <= 0 then return 0 end
        local length = redis.call('RPUSH', KEYS[1], unpack(ARGV, 2, count + 1))
        redis.call('INCRBY', KEYS[3], count)
        if length == count then redis.call('PUBLISH', ARGV[1], 'put') end
        return count
        """;

    /// <summary>KEYS: items, taken, leases, unfinished, ids, meta. ARGV: acknowledge (1/0), lease ms, channel, the
    /// most items to take. First puts back, at the head, the items whose lease ended (their consumer died). Rings only
    /// when a full queue gets room, as only a putter that found it full waits (see <see cref="Put"/>), or when items
    /// put back are left for others. Returns nil, or {delivery id, body, attempt} for each item taken, oldest first;
    /// the id is 0 for an item taken without acknowledgement. A taken item is kept in an envelope, the four bytes
    /// <c>\0BKR</c>, the number of deliveries so far, then the body, so that an item put back says how often it was
    /// delivered. Anything else in the list is an item as it is, whatever its bytes: a script that fails half-way is
    /// not undone, so this one never fails on what it reads, and only a deliberate forgery looks like an envelope.</summary>
    public const string Get = Now + """
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
        """;

    /// <summary>KEYS: taken, leases, unfinished. ARGV: channel, then delivery ids. Returns, for each id, the
    /// unfinished count left, or -1 if the item's lease had ended and it went back to the queue (another consumer has
    /// it now). The count stops at zero: an item that something else wrote into the list was never counted.</summary>
    public const string Ack = """
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
        """;

    /// <summary>KEYS: leases. ARGV: lease ms, delivery ids. Extends each lease still held; returns the ids whose
    /// lease had already ended.</summary>
    public const string Renew = Now + """
        local lost = {}
        for i = 2, #ARGV do
          if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
            redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
          else
            table.insert(lost, ARGV[i])
          end
        end
        return lost
        """;

    /// <summary>KEYS: items, taken, leases. ARGV: delivery id, channel. Gives an unfinished item back at the head of
    /// the queue, as a consumer that shuts down cleanly does.</summary>
    public const string GiveBack = """
        if redis.call('ZREM', KEYS[3], ARGV[1]) == 0 then return 0 end
        local body = redis.call('HGET', KEYS[2], ARGV[1])
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('LPUSH', KEYS[1], body)
        redis.call('PUBLISH', ARGV[2], 'put')
        return 1
        """;

    /// <summary>KEYS: lock, fence. ARGV: owner, lease ms. Returns the new fencing token, or nil if held.</summary>
    public const string Acquire = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end
        return nil
        """;

    /// <summary>KEYS: lock. ARGV: owner, channel. Returns 1, or 0 if <c>owner</c> does not hold the lock.</summary>
    public const string Release = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('PUBLISH', ARGV[2], 'released')
        return 1
        """;

    /// <summary>KEYS: lock. ARGV: owner, lease ms. Returns 1, or 0 if the lock is no longer <c>owner</c>'s.</summary>
    public const string RenewLock = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
        """;

    /// <summary>KEYS: value. ARGV: value, comparand, kind (i or f). Returns the value found. Integers compare as
    /// text, exactly; doubles as numbers.</summary>
    public const string CompareExchange = """
        local current = redis.call('GET', KEYS[1]) or '0'
        local same
        if ARGV[3] == 'i' then same = current == ARGV[2] else same = tonumber(current) == tonumber(ARGV[2]) end
        if same then redis.call('SET', KEYS[1], ARGV[1]) end
        return current
        """;
}
