namespace Broker.Tests.Redis;

using Broker;

/// <summary>Redis URLs that cannot serve: refused naming the setting, or unreachable without the password shown.</summary>
public sealed class RedisUrlTests
{
    [Fact]
    public async Task An_unreachable_Redis_raises_BrokerUnavailable_without_the_password()
    {
        await using var broker = BrokerContext.Connect("redis://user:hunter2@127.0.0.1:1");
        var error = await Assert.ThrowsAsync<BrokerUnavailableException>(() => new Value<int>(broker: broker).GetAsync().AsTask());
        Assert.Contains("redis://user:***@127.0.0.1:1", error.Message);
        Assert.DoesNotContain("hunter2", error.ToString());
    }

    [Theory]
    [InlineData("redis://127.0.0.1:6379?lease=soon", "lease")]
    [InlineData("redis://127.0.0.1:6379?prefetch=0", "prefetch")]
    [InlineData("redis://127.0.0.1:6379?colour=blue", "colour")]
    [InlineData("redis://127.0.0.1:6379/db", "database")]
    public void A_redis_url_with_a_bad_setting_is_refused_naming_it(string url, string named)
    {
        var error = Assert.Throws<BrokerUrlException>(() => BrokerContext.Connect(url));
        Assert.Contains(named, error.Message);
    }
}
