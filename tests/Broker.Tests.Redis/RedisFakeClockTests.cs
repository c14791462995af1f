namespace Broker.Tests.Redis;


[Collection(RedisCollection.Name)]
public sealed class RedisFakeClockTests(RedisFixture redis) : FakeClockTests
{
    protected override string Url => redis.Url;
}
