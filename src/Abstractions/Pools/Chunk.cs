using System.Buffers;
using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Broker.Processes;
using Broker.Serialization;

namespace Broker.Pools;

/// <summary>The calls of one task to its target as JSON, in one of two forms: argument lists <c>[[a, b], [c, d]]</c>
/// (<c>apply</c>, <c>starmap</c>), or one argument per call <c>[a, b]</c> (a map's items). Each is written and read in
/// one pass, with every value typed by its parameter or by the result: a JSON document per value would cost a trivial
/// task more than running it, and a chunk of a thousand items is then one copy into the message. A map's items, and
/// the results of a target of one parameter that returns them as they are, go through the serializer as one typed
/// array each, and the target through a typed delegate: no value is boxed, and no value pays the serializer's set-up
/// of a call of its own.</summary>
internal static class Chunk
{
    /// <summary>For each target run so far, its typed run, or null where it has none.</summary>
    private static readonly ConcurrentDictionary<MethodInfo, Func<JsonBrokerSerializer, RawJson, RawJson>?> s_typedRuns = new();

    /// <summary>For each target seen so far, the parameters its calls' arguments fill, and whether a token follows.</summary>
    private static readonly ConcurrentDictionary<MethodInfo, (ParameterInfo[] Arguments, bool TakesCancellation)> s_signatures = new();

    /// <summary>The parameters a call's arguments fill: all of <paramref name="method"/>'s but a last
    /// <see cref="CancellationToken"/>, which the worker gives (see <see cref="TakesCancellation"/>).</summary>
    public static ParameterInfo[] ArgumentParameters(MethodInfo method) => Signature(method).Arguments;

    /// <summary>Whether <paramref name="method"/>'s last parameter is a <see cref="CancellationToken"/>: one that fires
    /// when the task's caller cancels it or the pool terminates.</summary>
    public static bool TakesCancellation(MethodInfo method) => Signature(method).TakesCancellation;

    private static (ParameterInfo[] Arguments, bool TakesCancellation) Signature(MethodInfo method) => s_signatures.GetOrAdd(method, static method =>
        method.GetParameters() is [.. var arguments, { ParameterType: var last }] && last == typeof(CancellationToken)
            ? (arguments, true)
            : (method.GetParameters(), false));

    /// <summary>Writes <paramref name="argumentLists"/> as <c>[[a, b], [c, d], ...]</c>.</summary>
    /// <exception cref="ArgumentException">A list does not match <paramref name="method"/>'s parameters.</exception>
    /// <exception cref="BrokerSerializationException">An argument cannot be serialized; the message names it.</exception>
    public static Calls WriteArguments(JsonBrokerSerializer serializer, MethodInfo method, IReadOnlyCollection<object?[]> argumentLists)
    {
        var json = HandlesWritten.Write(static s => WriteArgumentLists(s.serializer, s.method, s.argumentLists), (serializer, method, argumentLists), out var uncreated);
        return new Calls(new RawJson(json), argumentLists.Count, OneArgumentEach: false, uncreated);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ReadOnlyMemory<byte> WriteArgumentLists(JsonBrokerSerializer serializer, MethodInfo method, IReadOnlyCollection<object?[]> argumentLists)
    {
        var parameters = ArgumentParameters(method);
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
        return buffer.WrittenMemory;
    }

    /// <summary>Writes each item as the one argument of a call, <c>[a, b, ...]</c>, as one array of the parameter's
    /// type: <typeparamref name="TArg"/> is that type or, a delegate's parameter being contravariant, a class derived
    /// from it, whose array is then one of the parameter's type too.</summary>
    /// <exception cref="ArgumentException"><paramref name="method"/> does not take one argument.</exception>
    /// <exception cref="BrokerSerializationException">An item cannot be serialized; the message names it.</exception>
    public static Calls WriteItems<TArg>(JsonBrokerSerializer serializer, MethodInfo method, TArg[] items)
    {
        var parameters = ArgumentParameters(method);
        if (parameters.Length != 1)
        {
            throw new ArgumentException($"{method.Name} takes {parameters.Length} argument(s), but 1 were given.", nameof(method));
        }
        var json = HandlesWritten.Write(static s => SerializeArray(s.serializer, s.items, s.type, () => Argument(s.method, s.parameters, 0)),
            (serializer, items, type: parameters[0].ParameterType, method, parameters), out var uncreated);
        return new Calls(new RawJson(json), items.Length, OneArgumentEach: true, uncreated);
    }

    /// <summary>Calls <paramref name="method"/> for each call of <paramref name="calls"/> (argument lists, or one
    /// argument each), in order, and writes the results as one array. The first exception, the target's own or one
    /// reading an argument or writing a result, ends the chunk. A target that <see cref="TakesCancellation"/> gets
    /// <paramref name="cancellation"/> last.</summary>
    public static RawJson Run(JsonBrokerSerializer serializer, MethodInfo method, RawJson calls, bool oneArgumentEach, CancellationToken cancellation) =>
        oneArgumentEach && s_typedRuns.GetOrAdd(method, TypedRunOf) is { } typed
            ? typed(serializer, calls)
            : RunBoxed(serializer, method, calls, oneArgumentEach, cancellation);

    /// <summary>Any target through reflection: its arguments and result boxed one by one, a task awaited.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static RawJson RunBoxed(JsonBrokerSerializer serializer, MethodInfo method, RawJson calls, bool oneArgumentEach, CancellationToken cancellation)
    {
        var (parameters, cancellable) = Signature(method);
        var types = TypeInfos(serializer, parameters);
        var resultType = Invocation.ResultType(method) ?? typeof(object);
        var result = serializer.TypeInfo(resultType);
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer);
        var reader = new Utf8JsonReader(calls.Utf8.Span);
        writer.WriteStartArray();
        Expect(ref reader, JsonTokenType.StartArray, method);
        if (oneArgumentEach && parameters.Length != 1)
        {
            throw new ArgumentException($"{method.Name} takes {parameters.Length} argument(s), but the task gives each call 1.");
        }
        while (Next(ref reader, method) != JsonTokenType.EndArray)
        {
            var args = new object?[parameters.Length + (cancellable ? 1 : 0)];
            if (cancellable)
            {
                args[^1] = cancellation;
            }
            if (oneArgumentEach)
            {
                args[0] = ReadArgument(ref reader, method, parameters, types, 0);
            }
            else
            {
                Expect(ref reader, JsonTokenType.StartArray, method);
                for (var i = 0; i < parameters.Length; i++)
                {
                    if (Next(ref reader, method) == JsonTokenType.EndArray)
                    {
                        throw new ArgumentException($"{method.Name} takes {parameters.Length} argument(s), but the task has {i}.");
                    }
                    args[i] = ReadArgument(ref reader, method, parameters, types, i);
                }
                if (Next(ref reader, method) != JsonTokenType.EndArray)
                {
                    throw new ArgumentException($"{method.Name} takes {parameters.Length} argument(s), but the task has more.");
                }
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

    private static object? ReadArgument(ref Utf8JsonReader reader, MethodInfo method, ParameterInfo[] parameters, JsonTypeInfo[] types, int i)
    {
        try
        {
            return Connection.ClaimedIfEnd(JsonSerializer.Deserialize(ref reader, types[i]));
        }
        catch (Exception e) when (JsonBrokerSerializer.IsFailure(e))
        {
            throw JsonBrokerSerializer.CannotRead(Argument(method, parameters, i), parameters[i].ParameterType, e);
        }
    }

    /// <summary>The typed run of a target of one parameter that returns its result as it is (no task to await), or
    /// null for any other.</summary>
    private static Func<JsonBrokerSerializer, RawJson, RawJson>? TypedRunOf(MethodInfo method)
    {
        if (method.GetParameters() is not [{ ParameterType: var parameter }] || Invocation.ResultType(method) != method.ReturnType ||
            !IsTypeArgument(parameter) || !IsTypeArgument(method.ReturnType) || method.ContainsGenericParameters)
        {
            return null;
        }
        var typedRun = typeof(Chunk).GetMethod(nameof(TypedRun), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(parameter, method.ReturnType);
        return typedRun.CreateDelegate<Func<MethodInfo, Func<JsonBrokerSerializer, RawJson, RawJson>>>()(method);

        static bool IsTypeArgument(Type type) => !type.IsByRef && !type.IsPointer && !type.IsByRefLike;
    }

    private static Func<JsonBrokerSerializer, RawJson, RawJson> TypedRun<TArg, TResult>(MethodInfo method)
    {
        var target = method.CreateDelegate<Func<TArg, TResult>>();
        return (serializer, items) =>
        {
            TArg[] args;
            try
            {
                args = JsonSerializer.Deserialize(items.Utf8.Span, (JsonTypeInfo<TArg[]>)serializer.TypeInfo(typeof(TArg[])))
                    ?? throw new JsonException("The task holds no items.");
            }
            catch (Exception e) when (JsonBrokerSerializer.IsFailure(e))
            {
                throw JsonBrokerSerializer.CannotRead(Argument(method, method.GetParameters(), 0), typeof(TArg), e);
            }
            var results = new TResult[args.Length];
            for (var i = 0; i < args.Length; i++)
            {
                results[i] = target(Connection.ClaimedIfEnd(args[i]));
            }
            return new RawJson(SerializeArray(serializer, results, typeof(TResult), () => $"the result of {method.Name}"));
        };
    }

    /// <summary>Writes <paramref name="values"/> as one array of <paramref name="element"/>. When that fails, the values
    /// are tried one by one, so that the error names <paramref name="what"/> and the type of the one that failed.</summary>
    private static byte[] SerializeArray<T>(JsonBrokerSerializer serializer, T[] values, Type element, Func<string> what)
    {
        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(values, serializer.TypeInfo(element.MakeArrayType()));
        }
        catch (Exception e) when (JsonBrokerSerializer.IsFailure(e))
        {
            var failed = Array.Find(values, value => !CanSerialize(serializer, value, element));
            throw JsonBrokerSerializer.CannotSerialize(what(), failed?.GetType() ?? element, e);
        }
    }

    private static bool CanSerialize<T>(JsonBrokerSerializer serializer, T value, Type type)
    {
        try
        {
            JsonSerializer.SerializeToUtf8Bytes(value, serializer.TypeInfo(type));
            return true;
        }
        catch (Exception e) when (JsonBrokerSerializer.IsFailure(e))
        {
            return false;
        }
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

/// <summary>The calls of one task: <see cref="Json"/> holds <see cref="Count"/> argument lists, or, where
/// <see cref="OneArgumentEach"/>, one argument per call. <see cref="Uncreated"/> are the handles among the arguments
/// that the sender creates on the broker before it sends them (HandlesWritten).</summary>
internal readonly record struct Calls(RawJson Json, int Count, bool OneArgumentEach, IReadOnlyList<BrokerHandle> Uncreated);

internal sealed class RawJsonConverter : JsonConverter<RawJson>
{
    /// <summary>Copies an array or object out of the buffer it is read from; parsing a chunk of a thousand calls into a
    /// document only to copy it cost a pool more than running them. The serializer hands a converter the whole value,
    /// so a reader over one buffer (its position names no segment of a sequence) holds it from its first token to its
    /// last. Any other value, or reader, goes through a document.</summary>
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject && reader.Position.GetObject() is null)
        {
            ref var first = ref MemoryMarshal.GetReference(reader.ValueSpan);
            // TrySkip, as a reader fed from a stream is not at its final block even when the value is all there.
            if (reader.TrySkip())
            {
                ref var last = ref MemoryMarshal.GetReference(reader.ValueSpan);
                return new RawJson(MemoryMarshal.CreateReadOnlySpan(ref first, (int)Unsafe.ByteOffset(ref first, ref last) + 1).ToArray());
            }
        }
        using var document = JsonDocument.ParseValue(ref reader);
        return new RawJson(JsonMarshal.GetRawUtf8Value(document.RootElement).ToArray());
    }

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Utf8.Span, skipInputValidation: true);
}
