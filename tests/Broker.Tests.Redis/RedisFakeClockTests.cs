namespace Broker.Tests.Redis;


[Collection(RedisCollection.Name)]
public sealed class RedisFakeClockTests(RedisServer redis) : FakeClockTests
{
    protected override string Url => redis.Url;
}
