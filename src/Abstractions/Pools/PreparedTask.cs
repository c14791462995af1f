using System.Reflection;

namespace Broker.Pools;

/// <summary>A task checked and written, not sent yet: its target, its calls, and what takes its answer.</summary>
internal sealed record PreparedTask(MethodInfo Method, Calls Calls, Action<PoolResult> OnResult);
