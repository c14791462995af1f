namespace Broker;

/// <summary>One queue as <see cref="BrokerInspector.QueuesAsync"/> shows it.</summary>
/// <param name="Name">The queue's name.</param>
/// <param name="Waiting">Items waiting to be taken.</param>
/// <param name="Unfinished">Items put and not yet done, waiting ones included: what <see cref="JoinableQueue{T}.JoinAsync"/>
/// waits for; <c>null</c> where the queue was never used as a joinable queue and its transport keeps no count.</param>
/// <param name="DeadLetters">Items set aside in <see cref="Queue{T}.DeadLetters"/>, each with its reason.</param>
/// <param name="Consumers">Consumers attached to the queue; <c>null</c> where the transport does not know.</param>
public sealed record QueueStatus(string Name, long Waiting, long? Unfinished, long DeadLetters, int? Consumers);
