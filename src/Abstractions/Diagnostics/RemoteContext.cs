using System.Diagnostics;

namespace Broker.Diagnostics;

/// <summary>The trace context a message came with, from another process. A reference, null for a message without
/// one: carried through every get, it costs a pointer, where the context itself would cost its whole size.</summary>
internal sealed record RemoteContext(ActivityContext Context);
