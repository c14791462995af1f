namespace Broker.Conformance;

using Broker;

/// <summary>A test class that works through one transport's broker: a subclass per transport says how to reach it.</summary>
public abstract class TransportTests : IAsyncLifetime
{
    protected BrokerContext Broker { get; private set; } = null!;

    protected abstract BrokerContext Connect();

    public Task InitializeAsync()
    {
        Broker = Connect();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Broker.DisposeAsync();
}
