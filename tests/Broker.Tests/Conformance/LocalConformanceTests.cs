namespace Broker.Tests.Conformance;

using Broker;

/// <summary>The local broker as its host process sees it: direct calls, no socket.</summary>
public sealed class LocalHostConformanceTests : ConformanceTests
{
    protected override Task<BrokerContext> ConnectAsync() => Task.FromResult(BrokerContext.Connect("local://"));
}

/// <summary>The local broker as a child process sees it: every operation over the Unix-domain socket.</summary>
public sealed class LocalSocketConformanceTests : ConformanceTests
{
    private BrokerContext? _host;

    protected override async Task<BrokerContext> ConnectAsync()
    {
        _host = BrokerContext.Connect("local://");
        var url = await _host.ShareAsync(CancellationToken.None);
        Assert.StartsWith("local:///", url);
        return BrokerContext.Connect(url);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}
