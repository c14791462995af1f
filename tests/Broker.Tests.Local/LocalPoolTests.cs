namespace Broker.Tests.Local;

using Broker;

/// <summary>The pool tests on the local broker.</summary>
[Collection(ProcessCollection.Name)]
public sealed class LocalPoolTests : TransportPoolTests
{
    protected override BrokerContext Connect() => BrokerContext.Connect("local://");
}
