namespace Broker.Tests.Servers;

// xunit finds a collection's definition only in the test assembly itself, so the files of this folder are compiled
// into the test projects that use them (each links those it needs) rather than into the servers' library.

/// <summary>Tests with child processes on the local broker run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "processes";
}
