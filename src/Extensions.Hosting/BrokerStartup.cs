using Microsoft.Extensions.Hosting;

namespace Broker.Hosting;

/// <summary>Builds the context as the host starts, so that a URL no installed transport serves fails the start rather
/// than the first queue made.</summary>
internal sealed class BrokerStartup(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetService(typeof(BrokerContext));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
