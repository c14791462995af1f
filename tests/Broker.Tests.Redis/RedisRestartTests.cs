namespace Broker.Tests.Redis;

using Broker;

/// <summary>A redis-server of the test's own, SIGKILLed and started again in the middle of a stream of puts and
/// gets. With <c>appendfsync always</c> every acknowledged write survives, so every Put that returned must be
/// delivered. Gets whose answer was lost in the crash come back when their lease ends.</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class RedisRestartTests : IDisposable
{
    private readonly OwnRedisServer _server = new("--appendonly", "yes", "--appendfsync", "always");

    [Fact]
    public async Task No_put_that_returned_is_lost_when_Redis_is_killed_and_restarted()
    {
        await _server.StartAsync();
        await using var broker = BrokerContext.Connect($"redis://127.0.0.1:{_server.Port}?lease=2s&poll=100ms");
        await FaultStream.LosesNothingAsync(broker, async () =>
        {
            await _server.KillAsync();
            await Task.Delay(500);
            await _server.StartAsync();
        });
    }

    public void Dispose() => _server.Dispose();
}
