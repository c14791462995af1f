namespace Broker.Hosting;

/// <summary>What <c>AddBroker</c> binds from configuration (a section such as <c>"Broker"</c>): a setting it does not
/// know fails the host's start, naming it.</summary>
public sealed class BrokerHostOptions
{
    /// <summary>The broker's URL, or several separated by commas: <c>local://</c> (the default), <c>redis://...</c>,
    /// <c>amqp://...</c>.</summary>
    public string Url { get; set; } = BrokerContext.LocalUrl;

    /// <summary>Whether the context is also this process's <see cref="BrokerContext.Default"/>, so that queues, locks
    /// and processes made without a broker use it, and children inherit it; true by default.</summary>
    public bool UseAsDefault { get; set; } = true;

    /// <summary>What every child process calls before its target (<see cref="BrokerOptions.ChildStartup"/>): set in
    /// code, as <c>AddBroker(o => o.ChildStartup = Telemetry.Start)</c>, to give pool workers the host's telemetry.</summary>
    public Func<IDisposable?>? ChildStartup { get; set; }
}
