namespace Broker.Tests.Hosting;

using Broker;
using Broker.Tests.Demo;

/// <summary>samples/HostedService as an operator runs it: a generic-host service configured on the command line,
/// serving its pool to a client elsewhere, and stopping with SIGTERM.</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class HostedServiceSampleTests(RedisFixture redis)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_sample_serves_its_pool_on_the_broker_its_configuration_names_and_stops_cleanly_on_SIGTERM()
    {
        var pool = $"sample-{Guid.NewGuid():N}";
        using var service = DemoRunner.Start(DemoRunner.HostedServiceDll, $"--Broker:Url={redis.Url}", $"--Pool:Name={pool}");
        var output = service.StandardOutput.ReadToEndAsync();
        var errors = service.StandardError.ReadToEndAsync();
        try
        {
            await using var broker = BrokerContext.Connect(redis.Url);
            await using var client = new Pool(0, name: pool, broker: broker);
            Assert.Equal([1, 4, 9], await client.MapAsync(Jobs.Square, [1, 2, 3]).Task.WaitAsync(Patience));
            Assert.Equal(0, DemoRunner.Signal(service.Id, "TERM"));
            await service.WaitForExitAsync().WaitAsync(Patience);
            Assert.True(service.ExitCode == 0, $"exit code {service.ExitCode}: {await errors}{await output}");
        }
        finally
        {
            if (!service.HasExited)
            {
                service.Kill(entireProcessTree: true);
            }
        }
    }
}
