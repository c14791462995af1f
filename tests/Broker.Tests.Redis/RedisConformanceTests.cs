namespace Broker.Tests.Redis;

using Broker;
using StackExchange.Redis;

/// <summary>The conformance suite, unchanged, against a real redis-server.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisConformanceTests(RedisFixture redis) : ConformanceTests
{
    private ConnectionMultiplexer? _raw;

    protected override Task<BrokerContext> ConnectAsync() => Task.FromResult(BrokerContext.Connect(redis.ShortLeaseUrl()));

    /// <summary>Bytes pushed straight onto the queue's list, and counted as a Put counts them.</summary>
    protected override async Task WriteForeignAsync(string queue, byte[] body, Random random)
    {
        _raw ??= await ConnectionMultiplexer.ConnectAsync(new Uri(redis.Url).Authority);
        var database = _raw.GetDatabase();
        await database.ListRightPushAsync($"{redis.KeyPrefix}q:{{{queue}}}:items", body);
        await database.StringIncrementAsync($"{redis.KeyPrefix}q:{{{queue}}}:unfinished");
    }

    public override async Task DisposeAsync()
    {
        if (_raw is not null)
        {
            await _raw.DisposeAsync();
        }
        await base.DisposeAsync();
    }
}

/// <summary>The prefetch suite on Redis: a Get with acknowledgement takes up to N items in one script and keeps the
/// rest leased to this process.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisPrefetchTests(RedisFixture redis) : PrefetchTests
{
    protected override string Url(int prefetch) => $"{redis.ShortLeaseUrl()}&prefetch={prefetch}";
}
