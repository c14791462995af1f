namespace Broker.Tests.Hosting;

using Broker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

/// <summary><c>AddHealthChecks().AddBroker()</c> against real servers: healthy while every broker of the URL answers,
/// unhealthy with the reason once one is killed or was never there.</summary>
[Collection(CompositeProcessCollection.Name)]
public sealed class HealthCheckTests(RabbitMqServer rabbitMq, RedisServer redis)
{
    [Fact]
    public async Task A_composite_that_answers_is_healthy()
    {
        using var host = Build($"{rabbitMq.Url},{redis.Url}");
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, report.Status);
    }

    [Fact]
    public async Task Redis_killed_makes_the_check_unhealthy_with_the_reason_within_its_timeout()
    {
        using var server = new OwnRedisServer();
        await server.StartAsync();
        using var host = Build($"redis://127.0.0.1:{server.Port}");
        var health = host.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);

        await server.KillAsync();
        var report = await health.CheckHealthAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains("did not answer", report.Entries["broker"].Description);
    }

    [Fact]
    public async Task A_RabbitMQ_that_is_not_there_makes_the_check_unhealthy()
    {
        using var host = Build($"amqp://guest:s3cret@127.0.0.1:{Loopback.FreePort()}/");
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.DoesNotContain("s3cret", report.Entries["broker"].Description);
    }

    private static IHost Build(string url)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Services.AddBroker(o => (o.Url, o.UseAsDefault) = (url, false));
        builder.Services.AddHealthChecks().AddBroker(timeout: TimeSpan.FromSeconds(2));
        return builder.Build();
    }
}
