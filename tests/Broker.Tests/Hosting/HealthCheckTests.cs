namespace Broker.Tests.Hosting;

using Broker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

/// <summary><c>AddHealthChecks().AddBroker()</c> against real servers: healthy while every broker of the URL answers,
/// unhealthy with the reason once one is killed or was never there, degraded while a served pool lacks workers.</summary>
[Collection(CompositeProcessCollection.Name)]
public sealed class HealthCheckTests(RabbitMqFixture rabbitMq, RedisFixture redis)
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

    [Fact]
    public async Task A_served_pool_with_its_workers_alive_is_healthy_and_one_whose_workers_keep_ending_is_degraded()
    {
        using var serving = Build(redis.Url, pool: $"healthy-{Guid.NewGuid():N}");
        await serving.StartAsync();
        var healthy = await ReportOnceAsync(serving, HealthStatus.Healthy);
        Assert.Contains("2 of 2 workers alive", healthy.Entries["broker"].Description);
        await serving.StopAsync();

        // Each worker fails its start-up and ends at once; its replacement does the same.
        using var failing = Build(redis.Url, pool: $"failing-{Guid.NewGuid():N}", childStartup: FailingStartup);
        await failing.StartAsync();
        var degraded = await ReportOnceAsync(failing, HealthStatus.Degraded);
        Assert.Contains("of 2 workers alive", degraded.Entries["broker"].Description);
        await failing.StopAsync();
    }

    public static IDisposable? FailingStartup() => throw new InvalidOperationException("This worker's start-up fails on purpose.");

    /// <summary>The first report of <paramref name="status"/>, checking every 100 ms for 30 s.</summary>
    private static async Task<HealthReport> ReportOnceAsync(IHost host, HealthStatus status)
    {
        var health = host.Services.GetRequiredService<HealthCheckService>();
        HealthReport? report = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            report = await health.CheckHealthAsync();
            if (report.Status == status)
            {
                return report;
            }
        }
        Assert.Fail($"The check never reported {status} in 30 s; last: {report?.Status} {report?.Entries["broker"].Description}");
        return report;
    }

    private static IHost Build(string url, string? pool = null, Func<IDisposable?>? childStartup = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        var broker = builder.Services.AddBroker(o => (o.Url, o.UseAsDefault, o.ChildStartup) = (url, false, childStartup));
        if (pool is not null)
        {
            broker.AddPoolWorkers(pool, processes: 2);
        }
        builder.Services.AddHealthChecks().AddBroker(timeout: TimeSpan.FromSeconds(2));
        return builder.Build();
    }
}
