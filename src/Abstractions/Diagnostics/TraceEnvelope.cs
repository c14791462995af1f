using System.Diagnostics;
using System.Text;

namespace Broker.Diagnostics;

/// <summary>The W3C trace context an item carries in front of its JSON, so that one trace runs from a producer to
/// its consumer on every transport: <c>0x1E traceparent [0x1F tracestate] 0x1E json</c>. JSON never begins with
/// 0x1E, so an item without a context (no activity was current when it was put, or bytes another program wrote) is
/// its JSON alone, and reads as before.</summary>
internal static class TraceEnvelope
{
    private const byte Mark = 0x1E;
    private const byte StateMark = 0x1F;

    /// <summary>A W3C traceparent: <c>00-{32 hex}-{16 hex}-{2 hex}</c>.</summary>
    private const int TraceParentLength = 55;

    /// <summary>The most bytes a tracestate may take: the W3C limit.</summary>
    private const int MostTraceStateBytes = 512;

    /// <summary>The most bytes <see cref="Wrap"/> puts in front: the marks, a traceparent and the largest tracestate.</summary>
    public const int MostHeaderBytes = 3 + TraceParentLength + MostTraceStateBytes;

    /// <summary>The context of <paramref name="activity"/> as W3C <c>traceparent</c> and <c>tracestate</c>, for a
    /// message that carries it in its JSON (a pool task, a pool result); nulls without one.</summary>
    public static (string? Parent, string? State) Of(Activity? activity) =>
        activity is { IdFormat: ActivityIdFormat.W3C, Id: { Length: TraceParentLength } parent }
            ? (parent, activity.TraceStateString is { Length: > 0 and <= MostTraceStateBytes } state ? state : null)
            : (null, null);

    /// <summary>Whether <paramref name="text"/> is a version-00 W3C traceparent: lower-case hex fields, dashes between,
    /// and neither id all zeros. The runtime's own parser lets some malformed ones through.</summary>
    private static bool IsTraceParent(ReadOnlySpan<byte> text)
    {
        if (text.Length != TraceParentLength || !text.StartsWith("00-"u8) || text[35] != '-' || text[52] != '-')
        {
            return false;
        }
        ReadOnlySpan<byte> trace = text[3..35], span = text[36..52];
        return IsHex(trace) && IsHex(span) && IsHex(text[53..]) && trace.IndexOfAnyExcept((byte)'0') >= 0 && span.IndexOfAnyExcept((byte)'0') >= 0;

        static bool IsHex(ReadOnlySpan<byte> field) => field.IndexOfAnyExcept("0123456789abcdef"u8) < 0;
    }

    /// <summary>The context a message's <c>traceparent</c> and <c>tracestate</c> name; default when they name none.</summary>
    public static ActivityContext Parse(string? parent, string? state) =>
        parent is not null && ActivityContext.TryParse(parent, state, isRemote: true, out var context) ? context : default;

    /// <summary><paramref name="json"/> with the context of <paramref name="activity"/> in front, or as it is
    /// without one.</summary>
    public static byte[] Wrap(byte[] json, Activity? activity)
    {
        if (Of(activity) is not (string parent, var state))
        {
            return json;
        }
        var headerLength = 2 + TraceParentLength + (state is null ? 0 : 1 + Encoding.ASCII.GetByteCount(state));
        var wrapped = new byte[headerLength + json.Length];
        wrapped[0] = Mark;
        var at = 1 + Encoding.ASCII.GetBytes(parent, wrapped.AsSpan(1));
        if (state is not null)
        {
            wrapped[at++] = StateMark;
            at += Encoding.ASCII.GetBytes(state, wrapped.AsSpan(at));
        }
        wrapped[at] = Mark;
        json.CopyTo(wrapped.AsSpan(headerLength));
        return wrapped;
    }

    /// <summary>The JSON of <paramref name="body"/>, and the context in front of it (null when none). False, with
    /// the reason, when the body begins as a context does but holds none that can be read.</summary>
    public static bool TryUnwrap(ReadOnlyMemory<byte> body, out ReadOnlyMemory<byte> json, out RemoteContext? context, out string? problem)
    {
        json = body;
        context = null;
        problem = null;
        var span = body.Span;
        if (span.IsEmpty || span[0] != Mark)
        {
            return true;
        }
        var end = span[1..].IndexOf(Mark) + 1;
        if (end < 1 + TraceParentLength)
        {
            problem = "The item begins with a trace context (0x1E) that is not closed or is shorter than a W3C traceparent.";
            return false;
        }
        var header = span[1..end];
        var stateAt = header.IndexOf(StateMark);
        var parent = Encoding.ASCII.GetString(stateAt < 0 ? header : header[..stateAt]);
        var state = stateAt < 0 ? null : Encoding.ASCII.GetString(header[(stateAt + 1)..]);
        if (!IsTraceParent(header[..TraceParentLength]) || (stateAt < 0 ? header.Length != TraceParentLength : stateAt != TraceParentLength)
            || !ActivityContext.TryParse(parent, state, isRemote: true, out var parsed))
        {
            problem = $"The item's trace context '{parent}' is not a W3C traceparent.";
            return false;
        }
        json = body[(end + 1)..];
        context = new RemoteContext(parsed);
        return true;
    }
}
