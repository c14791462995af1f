namespace Broker.Tests.RabbitMq;

using Broker;
using Broker.Transport.RabbitMq;

/// <summary>The RabbitMQ transport configured in code: a hook on the connection factory Broker builds, and values
/// refused by name.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class RabbitMqTransportOptionsTests(RabbitMqFixture rabbitMq)
{
    [Fact]
    public async Task ConfigureConnectionFactory_changes_the_connections_Broker_opens()
    {
        // A password the hook sets, and the server refuses: proof that the hook's factory made the connection.
        var options = new BrokerOptions
        {
            Transports = { new RabbitMqTransportFactory(new RabbitMqTransportOptions { ConfigureConnectionFactory = f => f.Password = "not-the-password" }) },
        };
        await using var context = BrokerContext.Connect(rabbitMq.Url, options);
        var error = await Assert.ThrowsAsync<BrokerException>(() => new Queue<int>(broker: context).PutAsync(1).AsTask());
        Assert.Contains("ACCESS_REFUSED", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void A_prefetch_out_of_range_is_refused_by_name(int prefetch)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RabbitMqTransportFactory(new RabbitMqTransportOptions { Prefetch = prefetch }));
        Assert.Equal(nameof(RabbitMqTransportOptions.Prefetch), error.ParamName);
    }

    [Fact]
    public void A_negative_retry_budget_is_refused_by_name()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RabbitMqTransportFactory(new RabbitMqTransportOptions { RetryBudget = TimeSpan.FromSeconds(-1) }));
        Assert.Equal(nameof(RabbitMqTransportOptions.RetryBudget), error.ParamName);
    }

    [Fact]
    public async Task A_put_to_a_RabbitMQ_that_is_not_there_gives_up_at_the_urls_retry_budget_and_hides_the_password()
    {
        await using var context = BrokerContext.Connect($"amqp://guest:s3cret@127.0.0.1:{Loopback.FreePort()}/?retry=1s");
        // The default budget, 20 s, would outlast the wait.
        var error = await Assert.ThrowsAsync<BrokerUnavailableException>(() => new Queue<int>(broker: context).PutAsync(1).AsTask().WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains("within the retry budget of 1 s", error.Message);
        Assert.DoesNotContain("s3cret", error.Message);
    }
}
