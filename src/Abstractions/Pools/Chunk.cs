using System.Buffers;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Broker.Processes;
using Broker.Serialization;

namespace Broker.Pools;

/// <summary>The calls of one task to its target, and their results, each as one JSON array written and read in one
/// pass with every value typed by its parameter or by the result: a JSON document per value would cost a trivial
/// task more than running it, and a chunk of a thousand items is then one copy into the message. The two loops run a
/// few times per map with thousands of turns each, too few calls for tiered compilation to optimize them in time:
/// they are compiled optimized at once.</summary>
internal static class Chunk
{
    /// <summary>Writes <paramref name="argumentLists"/> as <c>[[a, b], [c, d], ...]</c>.</summary>
    /// <exception cref="ArgumentException">A list does not match <paramref name="method"/>'s parameters.</exception>
    /// <exception cref="BrokerSerializationException">An argument cannot be serialized; the message names it.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static RawJson WriteArguments(JsonBrokerSerializer serializer, MethodInfo method, IEnumerable<object?[]> argumentLists)
    {
        var parameters = method.GetParameters();
        var types = TypeInfos(serializer, parameters);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var args in argumentLists)
            {
                if (args.Length != parameters.Length)
                {
                    throw new ArgumentException($"{method.Name} takes {parameters.Length} argument(s), but {args.Length} were given.", nameof(argumentLists));
                }
                writer.WriteStartArray();
                for (var i = 0; i < args.Length; i++)
                {
                    try
                    {
                        JsonSerializer.Serialize(writer, args[i], types[i]);
                    }
                    catch (Exception e) when (JsonBrokerSerializer.IsFailure(e))
                    {
                        throw JsonBrokerSerializer.CannotSerialize(Argument(method, parameters, i), args[i]?.GetType() ?? parameters[i].ParameterType, e);
                    }
                }
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        return new RawJson(buffer.WrittenMemory);
    }

    /// <summary>Calls <paramref name="method"/> with each argument list of <paramref name="argumentLists"/>, in
    /// order, and writes the results as one array. The first exception, the target's own or one reading an
    /// argument or writing a result, ends the chunk.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static RawJson Run(JsonBrokerSerializer serializer, MethodInfo method, RawJson argumentLists)
    {
        var parameters = method.GetParameters();
        var types = TypeInfos(serializer, parameters);
        var resultType = Invocation.ResultType(method) ?? typeof(object);
        var result = serializer.TypeInfo(resultType);
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer);
        var reader = new Utf8JsonReader(argumentLists.Utf8.Span);
        writer.WriteStartArray();
        Expect(ref reader, JsonTokenType.StartArray, method);
        while (Next(ref reader, method) != JsonTokenType.EndArray)
        {
            Expect(ref reader, JsonTokenType.StartArray, method);
            var args = new object?[parameters.Length];
            for (var i = 0; i < args.Length; i++)
            {
                if (Next(ref reader, method) == JsonTokenType.EndArray)
                {
                    throw new ArgumentException($"{method.Name} takes {parameters.Length} argument(s), but the task has {i}.");
                }
                try
                {
                    args[i] = JsonSerializer.Deserialize(ref reader, types[i]);
                }
                catch (Exception e) when (JsonBrokerSerializer.IsFailure(e))
                {
                    throw JsonBrokerSerializer.CannotRead(Argument(method, parameters, i), parameters[i].ParameterType, e);
                }
            }
            if (Next(ref reader, method) != JsonTokenType.EndArray)
            {
                throw new ArgumentException($"{method.Name} takes {parameters.Length} argument(s), but the task has more.");
            }
            var value = Invocation.Run(method, null, args);
            try
            {
                JsonSerializer.Serialize(writer, value, result);
            }
            catch (Exception e) when (JsonBrokerSerializer.IsFailure(e))
            {
                throw JsonBrokerSerializer.CannotSerialize($"the result of {method.Name}", value?.GetType() ?? resultType, e);
            }
        }
        writer.WriteEndArray();
        writer.Flush();
        return new RawJson(buffer.WrittenMemory);
    }

    /// <summary>Reads the results <see cref="Run"/> wrote.</summary>
    /// <exception cref="BrokerSerializationException">A result cannot be read as <typeparamref name="TResult"/>.</exception>
    public static TResult[] ReadResults<TResult>(JsonBrokerSerializer serializer, MethodInfo method, RawJson results)
    {
        try
        {
            return JsonSerializer.Deserialize(results.Utf8.Span, (JsonTypeInfo<TResult[]>)serializer.TypeInfo(typeof(TResult[])))
                ?? throw new JsonException("The reply holds no results.");
        }
        catch (Exception e) when (JsonBrokerSerializer.IsFailure(e))
        {
            throw JsonBrokerSerializer.CannotRead($"the result of {method.Name}", typeof(TResult), e);
        }
    }

    private static JsonTypeInfo[] TypeInfos(JsonBrokerSerializer serializer, ParameterInfo[] parameters) =>
        Array.ConvertAll(parameters, p => serializer.TypeInfo(p.ParameterType));

    private static string Argument(MethodInfo method, ParameterInfo[] parameters, int i) => $"argument {i} ('{parameters[i].Name}') of {method.Name}";

    private static JsonTokenType Next(ref Utf8JsonReader reader, MethodInfo method)
    {
        try
        {
            return reader.Read() ? reader.TokenType : throw new JsonException("The chunk ends early.");
        }
        catch (JsonException e)
        {
            throw JsonBrokerSerializer.CannotRead($"the arguments of a task for {method.Name}", typeof(object[][]), e);
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token, MethodInfo method)
    {
        if (reader.TokenType == JsonTokenType.None)
        {
            Next(ref reader, method);
        }
        if (reader.TokenType != token)
        {
            throw JsonBrokerSerializer.CannotRead($"the arguments of a task for {method.Name}", typeof(object[][]),
                new JsonException($"Expected {token}, found {reader.TokenType}."));
        }
    }
}

/// <summary>JSON carried as it is: written into a message by copying, read out as the bytes of its value.</summary>
[JsonConverter(typeof(RawJsonConverter))]
internal readonly record struct RawJson(ReadOnlyMemory<byte> Utf8);

internal sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return new RawJson(JsonMarshal.GetRawUtf8Value(document.RootElement).ToArray());
    }

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Utf8.Span, skipInputValidation: true);
}
