using Broker;
using Broker.Hosting;
using Broker.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Broker in a host: <c>builder.Services.AddBroker(builder.Configuration.GetSection("Broker"))</c>.</summary>
public static class BrokerServiceCollectionExtensions
{
    /// <summary>Registers a <see cref="BrokerContext"/> singleton on the broker that <paramref name="configuration"/>
    /// names (<see cref="BrokerHostOptions"/>), built with the host's <see cref="ILoggerFactory"/> and
    /// <see cref="TimeProvider"/>. A bad URL, or a setting <see cref="BrokerHostOptions"/> does not have, fails the
    /// host's start with the key's name.</summary>
    public static BrokerBuilder AddBroker(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<BrokerHostOptions>().Bind(configuration, binder => binder.ErrorOnUnknownConfiguration = true);
        return Add(services, (configuration as IConfigurationSection)?.Path);
    }

    /// <summary>Registers a <see cref="BrokerContext"/> singleton as <see cref="AddBroker(IServiceCollection, IConfiguration)"/>
    /// does, with options set in code.</summary>
    public static BrokerBuilder AddBroker(this IServiceCollection services, Action<BrokerHostOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<BrokerHostOptions>().Configure(configure);
        return Add(services, section: null);
    }

    private static BrokerBuilder Add(IServiceCollection services, string? section)
    {
        services.AddOptions<BrokerHostOptions>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<BrokerHostOptions>>(new BrokerHostOptionsValidation(section));
        services.TryAddSingleton(Create);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BrokerStartup>());
        return new BrokerBuilder(services);
    }

    private static BrokerContext Create(IServiceProvider services)
    {
        var host = services.GetRequiredService<IOptions<BrokerHostOptions>>().Value;
        var options = new BrokerOptions
        {
            LoggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
            TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System,
            Transports = [.. services.GetServices<ITransportFactory>()],
            ChildStartup = host.ChildStartup,
        };
        return host.UseAsDefault ? BrokerContext.Configure(host.Url, options) : BrokerContext.Connect(host.Url, options);
    }
}
