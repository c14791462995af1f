namespace Broker.Tests.Local;

using Broker;

/// <summary>The process tests on the local broker, which sees a killed child's connection drop.</summary>
[Collection(ProcessCollection.Name)]
public sealed class LocalProcessTests : TransportProcessTests
{
    protected override BrokerContext Connect() => BrokerContext.Connect("local://");
}
