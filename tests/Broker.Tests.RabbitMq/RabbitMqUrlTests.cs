namespace Broker.Tests.RabbitMq;

using Broker;

/// <summary>RabbitMQ URLs that cannot serve: refused naming the setting, unreachable or refused without the password shown.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class RabbitMqUrlTests(RabbitMqFixture rabbitMq)
{
    [Fact]
    public async Task An_unreachable_RabbitMQ_raises_BrokerUnavailable_without_the_password()
    {
        await using var broker = BrokerContext.Connect("amqp://user:hunter2@127.0.0.1:1/");
        var error = await Assert.ThrowsAsync<BrokerUnavailableException>(() => new Queue<int>(broker: broker).PutAsync(1).AsTask());
        Assert.Contains("amqp://user:***@127.0.0.1:1/", error.Message);
        Assert.DoesNotContain("hunter2", error.ToString());
    }

    [Fact]
    public async Task Refused_credentials_are_reported_at_once_without_the_password()
    {
        var uri = new UriBuilder(rabbitMq.Url) { UserName = "guest", Password = "not-the-password" };
        await using var broker = BrokerContext.Connect(uri.Uri.ToString());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<BrokerException>(() => new Queue<int>(broker: broker).PutAsync(1).AsTask());
        Assert.Contains("ACCESS_REFUSED", error.Message);
        Assert.DoesNotContain("not-the-password", error.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "a refusal is not retried as if the server were away");
    }

    [Theory]
    [InlineData("amqp://127.0.0.1:5672/?prefetch=lots", "prefetch")]
    [InlineData("amqp:///", "host")]
    public void An_amqp_url_with_a_bad_setting_is_refused_naming_it(string url, string named)
    {
        var error = Assert.Throws<BrokerUrlException>(() => BrokerContext.Connect(url));
        Assert.Contains(named, error.Message);
    }
}
