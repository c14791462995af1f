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
}
