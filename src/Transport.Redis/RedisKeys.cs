using StackExchange.Redis;

namespace Broker.Transport.Redis;

/// <summary>The names of Broker's keys and channels in Redis: each begins with the URL's <c>prefix=</c> and then a
/// kind of its own (<c>q:</c> queue, <c>l:</c> lock, <c>v:</c> value, <c>m:</c> dictionary or namespace, <c>li:</c>
/// list), so that objects of different kinds may share a name. The object's name sits in braces, so that the keys of
/// one object share a hash slot and its scripts run on a cluster too.</summary>
internal sealed class RedisKeys(string prefix)
{
    /// <summary>What a URL without <c>prefix=</c> gets.</summary>
    public const string DefaultPrefix = "broker:";

    /// <summary>What <see cref="IsValidPrefix"/> asks, for messages.</summary>
    public const string PrefixRule = "give 1 to 64 letters, digits or the characters - _ . :";

    public string Prefix { get; } = prefix;

    /// <summary>A prefix with no braces (they would move an object's keys out of its hash slot), no spaces and no
    /// glob characters, so that its keys can be listed with one <c>SCAN MATCH prefix*</c>.</summary>
    public static bool IsValidPrefix(string prefix) =>
        prefix.Length is > 0 and <= 64 && prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    public QueueKeys Queue(string name) => new($"{Prefix}q:{{{name}}}");

    public LockKeys Lock(string name) => new($"{Prefix}l:{{{name}}}");

    public RedisKey Value(string name) => $"{Prefix}v:{{{name}}}";

    public string ValueChanged(string name) => $"{Prefix}v:{{{name}}}:changed";

    public RedisKey Map(string name) => $"{Prefix}m:{{{name}}}";

    public RedisKey List(string name) => $"{Prefix}li:{{{name}}}";
}

/// <summary>One queue's keys, all beginning with <paramref name="Stem"/>.</summary>
internal readonly record struct QueueKeys(string Stem)
{
    public string Items => $"{Stem}:items";
    public string Taken => $"{Stem}:taken";
    public string Leases => $"{Stem}:leases";
    public string Unfinished => $"{Stem}:unfinished";
    public string Ids => $"{Stem}:ids";
    public string Meta => $"{Stem}:meta";
    public string Channel => $"{Stem}:signal";
}

/// <summary>One lock's keys: the lock itself is <paramref name="Lock"/>.</summary>
internal readonly record struct LockKeys(string Lock)
{
    public string Fence => $"{Lock}:fence";
    public string Channel => $"{Lock}:released";
}
