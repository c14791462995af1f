using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Broker.Serialization;

/// <summary>Turns items, values and process arguments into JSON typed by the receiver: a message names no CLR type,
/// so nothing in it can make a process load or run a type it did not ask for.</summary>
internal sealed class JsonBrokerSerializer
{
    private readonly JsonSerializerOptions _options;

    public JsonBrokerSerializer(BrokerContext context, JsonSerializerOptions? options)
    {
        _options = new JsonSerializerOptions(options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web));
        _options.Converters.Add(new HandleConverterFactory(context));
        _options.MakeReadOnly(populateMissingResolver: true);
    }

    /// <summary>Serializes <paramref name="value"/>; <paramref name="what"/> names it in the error ("an item of queue 'jobs'").</summary>
    public byte[] Serialize<T>(T value, string what)
    {
        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(value, _options);
        }
        catch (Exception e) when (IsFailure(e))
        {
            throw CannotSerialize(what, typeof(T), e);
        }
    }

    public T Deserialize<T>(ReadOnlySpan<byte> body, string what)
    {
        try
        {
            // System.Text.Json refuses null for a value type that cannot hold it, and gives null to one that can.
            return JsonSerializer.Deserialize<T>(body, _options)!;
        }
        catch (Exception e) when (IsFailure(e))
        {
            throw CannotRead(what, typeof(T), e);
        }
    }

    public JsonElement ToElement(object? value, Type type, string what)
    {
        try
        {
            return JsonSerializer.SerializeToElement(value, type, _options);
        }
        catch (Exception e) when (IsFailure(e))
        {
            throw CannotSerialize(what, value?.GetType() ?? type, e);
        }
    }

    public object? FromElement(JsonElement element, Type type, string what)
    {
        try
        {
            return element.Deserialize(type, _options);
        }
        catch (Exception e) when (IsFailure(e))
        {
            throw CannotRead(what, type, e);
        }
    }

    /// <summary>How values of <paramref name="type"/> are written and read, for callers that stream many of them
    /// through one <see cref="Utf8JsonWriter"/> or <see cref="Utf8JsonReader"/>.</summary>
    public JsonTypeInfo TypeInfo(Type type) => _options.GetTypeInfo(type);

    /// <summary>The exceptions System.Text.Json raises for a value it cannot write or read.</summary>
    public static bool IsFailure(Exception e) => e is NotSupportedException or JsonException or InvalidOperationException or ArgumentException;

    public static BrokerSerializationException CannotSerialize(string what, Type type, Exception e) =>
        new($"{Capitalize(what)} of type {type} cannot be serialized: {e.Message}", e);

    public static BrokerSerializationException CannotRead(string what, Type type, Exception e) =>
        new($"{Capitalize(what)} cannot be read as {type}: {e.Message}", e);

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>Writes a queue, lock or value as its name, so that a child process gets a handle on the same
    /// broker object, as Python pickles a <c>multiprocessing.Queue</c> passed to a child.</summary>
    private sealed class HandleConverterFactory(BrokerContext context) : JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert) => typeof(BrokerHandle).IsAssignableFrom(typeToConvert);

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
            (JsonConverter)Activator.CreateInstance(typeof(HandleConverter<>).MakeGenericType(typeToConvert), context)!;
    }

    private sealed class HandleConverter<THandle>(BrokerContext context) : JsonConverter<THandle>
        where THandle : BrokerHandle
    {
        public override THandle Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var descriptor = JsonSerializer.Deserialize<HandleDescriptor>(ref reader, options)
                ?? throw new JsonException($"A {typeof(THandle).Name} handle is missing.");
            return (THandle)BrokerHandle.Attach(typeof(THandle), context, descriptor);
        }

        public override void Write(Utf8JsonWriter writer, THandle value, JsonSerializerOptions options)
        {
            // A child may use the handle before the parent does: the object must exist on the broker first. An async
            // caller creates it before it sends (HandlesWritten); a synchronous one, with nothing else to do, waits here.
            if (!value.IsCreated && !HandlesWritten.Defer(value))
            {
                value.EnsureCreatedAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
            JsonSerializer.Serialize(writer, value.Describe(), options);
        }
    }
}
