namespace Broker.UnitTests.Transport;

using Broker.Transport;
using Microsoft.Extensions.Logging;

/// <summary>How a URL finds its transport: a factory given in the options first, then what the application's packages
/// install in its runtimeconfig, and a clear error that names the package otherwise.</summary>
public sealed class InstalledTests
{
    [Fact]
    public void The_core_packages_build_file_installs_the_local_transport_and_the_launcher()
    {
        Assert.Equal("Broker.Transport.Local.LocalTransportFactory, Broker.Transport.Local", AppContext.GetData("Broker.Transport.local"));
        Assert.NotNull(Installed.Transport("local"));
        Assert.NotNull(Installed.Launcher());
    }

    [Fact]
    public void A_scheme_no_package_installs_names_the_packages_that_would()
    {
        var error = Assert.Throws<BrokerUrlException>(() => BrokerContext.Connect("nats://127.0.0.1:4222"));
        Assert.Contains("nats://", error.Message);
        Assert.Contains("Broker.Transport.Redis", error.Message);
        Assert.Contains(nameof(BrokerOptions.Transports), error.Message);
    }

    [Fact]
    public async Task A_factory_given_in_the_options_serves_its_scheme_before_any_installed_one()
    {
        var factory = new RecordingFactory();
        await using var context = BrokerContext.Connect("local://", new BrokerOptions { Transports = [factory] });
        Assert.Equal(["local://"], factory.Created);
    }

    private sealed class RecordingFactory : ITransportFactory
    {
        public List<string> Created { get; } = [];

        public IReadOnlyCollection<string> Schemes { get; } = ["local"];

        public ITransport Create(BrokerUrl url, BrokerOptions options)
        {
            Created.Add(url.Display);
            return new Nothing(url.Display);
        }
    }

    private sealed class Nothing(string url) : ITransport
    {
        public string DisplayUrl => url;
        public IQueueBackend? Queues => null;
        public ILockBackend? Locks => null;
        public IValueBackend? Values => null;
        public ValueTask<string> ShareAsync(CancellationToken cancellationToken = default) => new(url);
        public ValueTask PingAsync(CancellationToken cancellationToken) => default;
        public ValueTask DisposeAsync() => default;
    }
}
