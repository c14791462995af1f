namespace Broker.UnitTests.Diagnostics;

using System.Diagnostics;
using System.Text;
using Broker.Diagnostics;

/// <summary>The trace context in front of an item's JSON: written only with an activity, read back exactly, and
/// anything that begins as one but is not a W3C context is refused with the reason.</summary>
public sealed class TraceEnvelopeTests
{
    private static readonly byte[] s_json = Encoding.UTF8.GetBytes("""{"n":1}""");

    [Fact]
    public void Without_an_activity_the_body_is_the_JSON_itself()
    {
        Assert.Same(s_json, TraceEnvelope.Wrap(s_json, null));
        Assert.True(TraceEnvelope.TryUnwrap(s_json, out var json, out var context, out var problem));
        Assert.Equal(s_json, json.ToArray());
        Assert.Null(context);
        Assert.Null(problem);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("vendor=a1,other=b 2")]
    public void A_context_comes_back_as_it_went_with_its_trace_state(string? state)
    {
        using var activity = new Activity("put").SetIdFormat(ActivityIdFormat.W3C);
        activity.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        activity.TraceStateString = state;
        activity.Start();

        var body = TraceEnvelope.Wrap(s_json, activity);
        Assert.Equal(0x1E, body[0]);
        Assert.True(TraceEnvelope.TryUnwrap(body, out var json, out var context, out var problem), problem);
        Assert.Equal(s_json, json.ToArray());
        var sent = Assert.IsType<RemoteContext>(context).Context;
        Assert.Equal((activity.TraceId, activity.SpanId, ActivityTraceFlags.Recorded, state, true),
            (sent.TraceId, sent.SpanId, sent.TraceFlags, sent.TraceState, sent.IsRemote));
    }

    [Theory]
    [InlineData("\u001E00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    [InlineData("\u001E00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331\u001E{}")]
    [InlineData("\u001E00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01\u001E{}")]
    [InlineData("\u001E00-00000000000000000000000000000000-b7ad6b7169203331-01\u001E{}")]
    [InlineData("\u001E00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01\u001E{}")]
    [InlineData("\u001E01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\u001E{}")]
    [InlineData("\u001E00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g\u001E{}")]
    [InlineData("\u001E00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x\u001E{}")]
    public void A_body_that_begins_as_a_context_but_holds_none_is_refused_with_the_reason(string body)
    {
        Assert.False(TraceEnvelope.TryUnwrap(Encoding.ASCII.GetBytes(body), out _, out _, out var problem));
        Assert.Contains("trace context", problem);
    }
}
