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

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Values_and_locks_past_the_first_file_of_shared_memory_are_shared_by_host_and_child()
    {
        var values = Enumerable.Range(0, global::Broker.Transport.Local.SlotMemory.SlotsPerSegment + 2).Select(i => new Value<int>(i, broker: Broker)).ToList();
        foreach (var value in values)
        {
            await value.AddAsync(1);
        }
        var last = new Value<int>(name: values[^1].Name, broker: _host!);
        Assert.Equal(values.Count, await last.GetAsync());
        var held = new Lock(name: last.Name, broker: Broker);
        Assert.True(await held.AcquireAsync());
        Assert.False(await new Lock(name: last.Name, broker: _host!).AcquireAsync(TimeSpan.FromMilliseconds(50)));
        await held.ReleaseAsync();
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
