namespace Broker.UnitTests.Configuration;

using Broker;

public sealed class BrokerUrlTests
{
    [Theory]
    [InlineData("local://", "local")]
    [InlineData("redis://127.0.0.1:6379", "redis")]
    [InlineData("AMQP://guest:guest@127.0.0.1:5672/", "amqp")]
    public void A_url_is_parsed_with_its_scheme(string text, string scheme) =>
        Assert.Equal(scheme, BrokerUrl.Parse(text).Scheme);

    [Theory]
    [InlineData("amqp://guest:s3cret@host:5672/", "amqp://guest:***@host:5672/")]
    [InlineData("redis://:s3cret@host:6379", "redis://:***@host:6379")]
    [InlineData("amqp://a:s3cret@h/,redis://:s3cret@h:1", "amqp://a:***@h/,redis://:***@h:1")]
    [InlineData("redis://host:6379", "redis://host:6379")]
    [InlineData("amqp://guest@host/", "amqp://guest@host/")]
    [InlineData("at redis://u:p@h:1 and amqp://v:q@g/ it failed", "at redis://u:***@h:1 and amqp://v:***@g/ it failed")]
    public void Passwords_never_show(string text, string shown) => Assert.Equal(shown, BrokerUrl.Redact(text));

    [Theory]
    [InlineData("127.0.0.1:6379")]
    [InlineData("not a url")]
    [InlineData("://nothing")]
    public void A_malformed_url_raises_BrokerUrlException_with_examples(string text)
    {
        var error = Assert.Throws<BrokerUrlException>(() => BrokerUrl.Parse(text));
        Assert.Contains("is not a broker URL", error.Message);
        Assert.Contains("local://", error.Message);
    }

    [Theory]
    [InlineData("amqp://guest:s3cret@host:notaport/ x")]
    [InlineData("redis//user:s3cret@127.0.0.1:6379")]
    [InlineData("user:s3cret@127.0.0.1:6379")]
    public void A_malformed_url_does_not_repeat_its_password(string text)
    {
        var error = Assert.Throws<BrokerUrlException>(() => BrokerUrl.Parse(text));
        Assert.DoesNotContain("s3cret", error.Message);
    }

    [Fact]
    public void A_composite_with_an_empty_entry_is_refused() =>
        Assert.Throws<BrokerUrlException>(() => BrokerUrl.ParseList("local://,,local://"));

    [Fact]
    public void An_unknown_scheme_names_the_installed_transports()
    {
        var error = Assert.Throws<BrokerUrlException>(() => BrokerContext.Connect("kafka://u:s3cret@host:9092"));
        Assert.Contains("kafka://u:***@host:9092", error.Message);
        Assert.Contains("local://", error.Message);
        Assert.DoesNotContain("s3cret", error.Message);
    }

    [Theory]
    [InlineData("local://somehost/x")]
    [InlineData("local://user@/x")]
    [InlineData("local:///tmp/x.sock?poll=1s")]
    public void A_local_url_with_anything_but_a_path_is_refused(string url)
    {
        var error = Assert.Throws<BrokerUrlException>(() => BrokerContext.Connect(url));
        Assert.Contains("local:///path/to/broker.sock", error.Message);
    }

    [Fact]
    public void What_follows_the_scheme_is_kept_as_given() =>
        Assert.Equal("/tmp/a b/broker.sock", BrokerUrl.Parse("LOCAL:///tmp/a b/broker.sock").SchemeSpecificPart);

    [Fact]
    public async Task A_local_url_whose_broker_is_gone_raises_BrokerUnavailable()
    {
        await using var context = BrokerContext.Connect("local:///tmp/no-such-broker/broker.sock");
        var error = await Assert.ThrowsAsync<BrokerUnavailableException>(() => new Queue<int>(broker: context).PutAsync(1).AsTask());
        Assert.Contains("local:///tmp/no-such-broker/broker.sock", error.Message);
    }
}
