namespace Broker.Tests.Hosting;

using Broker;
using Broker.Hosting;
using Broker.Transport.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

/// <summary>Broker in the generic host: a host built from configuration serves a pool that a client maps through, and
/// a configuration it cannot use fails the start with the key's name. SIGTERM's give-back is the worker host's, a
/// generic host on this package (see FleetTests).</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class HostingTests(RedisFixture redis)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("local://")]
    [InlineData("redis")]
    public async Task A_host_configured_from_a_section_serves_a_pool_that_a_client_maps_through(string url)
    {
        var pool = $"hosted-{Guid.NewGuid():N}";
        using var host = Build(new()
        {
            ["Broker:Url"] = url == "redis" ? redis.Url : url,
            ["Broker:UseAsDefault"] = "false",
        }, broker => broker.AddPoolWorkers(pool, processes: 2));
        await host.StartAsync().WaitAsync(Patience);
        try
        {
            var context = host.Services.GetRequiredService<BrokerContext>();
            Assert.Same(context, host.Services.GetRequiredService<BrokerContext>());
            await using var client = new Pool(0, name: pool, broker: context);
            Assert.Equal([1, 4, 9, 16, 25], await client.MapAsync(Tasks.Square, [1, 2, 3, 4, 5]).Task.WaitAsync(Patience));
        }
        finally
        {
            await host.StopAsync().WaitAsync(Patience);
        }
    }

    [Fact]
    public async Task AddRedis_serves_redis_urls_with_the_options_it_is_given()
    {
        var configured = 0;
        using var host = Build(new() { ["Broker:Url"] = redis.Url, ["Broker:UseAsDefault"] = "false" },
            broker => broker.AddRedis(new RedisTransportOptions { ConfigureConnection = _ => Interlocked.Increment(ref configured) }));
        await host.StartAsync().WaitAsync(Patience);
        await host.Services.GetRequiredService<BrokerContext>().PingAsync();
        Assert.Equal(1, configured);
        await host.StopAsync().WaitAsync(Patience);
    }

    [Fact]
    public async Task A_setting_the_options_do_not_have_fails_the_start_naming_it()
    {
        using var host = Build(new() { ["Broker:Url"] = BrokerContext.LocalUrl, ["Broker:Colour"] = "blue" });
        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("Colour", error.Message);
    }

    [Theory]
    [InlineData("redis//user:s3cret@127.0.0.1:6379", typeof(OptionsValidationException), "Broker:Url")]
    [InlineData("nats://user:s3cret@127.0.0.1:4222", typeof(BrokerUrlException), "nats://user:***@127.0.0.1:4222")]
    public async Task A_url_that_is_not_one_or_that_no_transport_serves_fails_the_start_without_its_password(string url, Type expected, string named)
    {
        using var host = Build(new() { ["Broker:Url"] = url, ["Broker:UseAsDefault"] = "false" });
        var error = await Record.ExceptionAsync(() => host.StartAsync());
        Assert.IsType(expected, error);
        Assert.Contains(named, error.Message);
        Assert.DoesNotContain("s3cret", error.Message);
    }

    private static IHost Build(Dictionary<string, string?> settings, Action<BrokerBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        var broker = builder.Services.AddBroker(builder.Configuration.GetSection("Broker"));
        configure?.Invoke(broker);
        return builder.Build();
    }
}
