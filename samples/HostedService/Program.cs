using Broker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// A service in the generic host that serves the pool "jobs" with worker processes. Its broker comes from configuration:
// appsettings.json, Broker__Url in the environment, or --Broker:Url on the command line. SIGTERM or Ctrl-C stops it,
// and its workers give back the tasks they hold.
var builder = Host.CreateApplicationBuilder(args);
builder.Services
    .AddBroker(builder.Configuration.GetSection("Broker"))
    .AddPoolWorkers(builder.Configuration["Pool:Name"] ?? "jobs", builder.Configuration.GetValue<int?>("Pool:Processes"));
await builder.Build().RunAsync();

/// <summary>What the service's workers run, for clients that submit to its pool.</summary>
public static class Jobs
{
    /// <summary>The square of <paramref name="x"/>.</summary>
    [PoolTask]
    public static int Square(int x) => x * x;
}
