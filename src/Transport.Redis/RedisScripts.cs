namespace Broker.Transport.Redis;

/// <summary>The Lua that makes each queue and lock step atomic on the server, one script per file under
/// <c>Scripts/</c>, embedded. Times come from the server's clock (<c>Clock.lua</c>), so clients with skewed clocks still
/// agree on when a lease ends.</summary>
internal static class RedisScripts
{
    /// <summary>KEYS: meta. ARGV: maxsize. Returns the maxsize the queue has (the first declaration's).</summary>
    public static readonly string Declare = Load("Declare");

    /// <summary>KEYS: items, meta, unfinished. ARGV: channel, then the bodies. Puts as many as the queue's maxsize
    /// leaves room for, in order, and returns how many. Only a put that ends an empty queue rings: a getter waits only
    /// after finding the queue empty, and the first put after that finds it empty too, so a ring for every put would
    /// only wake consumers that are busy.</summary>
    public static readonly string Put = Load("Put");

    /// <summary>KEYS: items, taken, leases, unfinished, ids, meta. ARGV: acknowledge (1/0), lease ms, channel, the
    /// most items to take. First puts back, at the head, the items whose lease ended (their consumer died). Rings only
    /// when a full queue gets room, as only a putter that found it full waits (see <see cref="Put"/>), or when items
    /// put back are left for others. Returns nil, or {delivery id, body, attempt} for each item taken, oldest first;
    /// the id is 0 for an item taken without acknowledgement. A taken item is kept in an envelope, the four bytes
    /// <c>\0BKR</c>, the number of deliveries so far, then the body, so that an item put back says how often it was
    /// delivered. Anything else in the list is an item as it is, whatever its bytes: a script that fails half-way is
    /// not undone, so this one never fails on what it reads, and only a deliberate forgery looks like an envelope.</summary>
    public static readonly string Get = Load("Clock") + Load("Get");

    /// <summary>KEYS: taken, leases, unfinished. ARGV: channel, then delivery ids. Returns, for each id, the
    /// unfinished count left, or -1 if the item's lease had ended and it went back to the queue (another consumer has
    /// it now). The count stops at zero: an item that something else wrote into the list was never counted.</summary>
    public static readonly string Ack = Load("Ack");

    /// <summary>KEYS: leases. ARGV: lease ms, delivery ids. Extends each lease still held; returns the ids whose
    /// lease had already ended.</summary>
    public static readonly string Renew = Load("Clock") + Load("Renew");

    /// <summary>KEYS: items, taken, leases. ARGV: delivery id, channel. Gives an unfinished item back at the head of
    /// the queue, as a consumer that shuts down cleanly does.</summary>
    public static readonly string GiveBack = Load("GiveBack");

    /// <summary>KEYS: lock, fence. ARGV: owner, lease ms. Returns the new fencing token, or nil if held.</summary>
    public static readonly string Acquire = Load("Acquire");

    /// <summary>KEYS: lock. ARGV: owner, channel. Returns 1, or 0 if <c>owner</c> does not hold the lock.</summary>
    public static readonly string Release = Load("Release");

    /// <summary>KEYS: lock. ARGV: owner, lease ms. Returns 1, or 0 if the lock is no longer <c>owner</c>'s.</summary>
    public static readonly string RenewLock = Load("RenewLock");

    /// <summary>KEYS: value. ARGV: value, comparand, kind (i or f). Returns the value found. Integers compare as
    /// text, exactly; doubles as numbers.</summary>
    public static readonly string CompareExchange = Load("CompareExchange");

    /// <summary>KEYS: map. ARGV: field, has value (1/0), value, has comparand (1/0), comparand. Sets the field to the
    /// value (removes it, without one) if it holds the comparand (is absent, without one); returns 1 if it did.</summary>
    public static readonly string MapCompareExchange = Load("MapCompareExchange");

    /// <summary>KEYS: map. ARGV: field. Removes it and returns the value it had, or nil.</summary>
    public static readonly string MapRemove = Load("MapRemove");

    /// <summary>KEYS: list. ARGV: index, value. Sets the element (a negative index counts from the end); 0 if none is there.</summary>
    public static readonly string ListSet = Load("ListSet");

    /// <summary>KEYS: list. ARGV: start, end. The elements of the Python slice <c>[start:end]</c>.</summary>
    public static readonly string ListSlice = Load("ListSlice");

    /// <summary>A script from <c>Scripts/NAME.lua</c>, embedded in this assembly.</summary>
    private static string Load(string name)
    {
        using var stream = typeof(RedisScripts).Assembly.GetManifestResourceStream(name + ".lua")
            ?? throw new InvalidOperationException($"Broker.Transport.Redis was built without its script {name}.lua.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
