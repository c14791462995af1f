using Broker.Transport;

namespace Broker;

/// <summary>One number as <see cref="BrokerInspector.ValuesAsync"/> shows it: a <see cref="Value{T}"/>, an element of an
/// <see cref="Array{T}"/> (named <c>name[index]</c>), or a synchronization primitive's own count.</summary>
/// <param name="Name">The number's name.</param>
/// <param name="Value">What it holds.</param>
public sealed record ValueStatus(string Name, Scalar Value);
