using System.Buffers;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Broker.Processes;

/// <summary>What a parent sends a child: the target (a method, or a <see cref="Process"/> subclass with its state),
/// the arguments as JSON typed by the target's parameters, and who the parent is.</summary>
internal sealed record ProcessSpec(
    string Name,
    bool Daemon,
    int ParentPid,
    string ParentName,
    TargetReference? Target,
    JsonElement[]? Args,
    string? ProcessType,
    JsonElement? State)
{
    // Written and read by hand: a child reads its spec before anything else, and the serializer's generic code for
    // these types, which the runtime compiles on first use, was a third of a child's start.
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("name", Name);
            json.WriteBoolean("daemon", Daemon);
            json.WriteNumber("parentPid", ParentPid);
            json.WriteString("parentName", ParentName);
            if (Target is { } target)
            {
                json.WriteStartObject("target");
                json.WriteString("assembly", target.Assembly);
                json.WriteString("type", target.Type);
                json.WriteString("method", target.Method);
                json.WriteNumber("token", target.Token);
                json.WriteEndObject();
            }
            if (Args is { } args)
            {
                json.WriteStartArray("args");
                foreach (var arg in args)
                {
                    arg.WriteTo(json);
                }
                json.WriteEndArray();
            }
            if (ProcessType is { } processType)
            {
                json.WriteString("processType", processType);
            }
            if (State is { } state)
            {
                json.WritePropertyName("state");
                state.WriteTo(json);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <exception cref="BrokerSerializationException">The line is not a process spec.</exception>
    public static ProcessSpec FromJson(string json)
    {
        try
        {
            // One document that needs no disposing, which the arguments and the state keep alive: no copy of each.
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
            var root = JsonElement.ParseValue(ref reader);
            TargetReference? target = root.TryGetProperty("target", out var t)
                ? new TargetReference(Text(t, "assembly"), Text(t, "type"), Text(t, "method"), t.GetProperty("token").GetInt32())
                : null;
            JsonElement[]? args = null;
            if (root.TryGetProperty("args", out var a))
            {
                args = new JsonElement[a.GetArrayLength()];
                for (var i = 0; i < args.Length; i++)
                {
                    args[i] = a[i];
                }
            }
            return new ProcessSpec(
                Text(root, "name"),
                root.GetProperty("daemon").GetBoolean(),
                root.GetProperty("parentPid").GetInt32(),
                Text(root, "parentName"),
                target,
                args,
                root.TryGetProperty("processType", out var type) ? type.GetString() : null,
                root.TryGetProperty("state", out var state) ? state : null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new BrokerSerializationException($"The process spec cannot be read: {e.Message}", e);
        }
    }

    private static string Text(JsonElement element, string name) =>
        element.GetProperty(name).GetString() ?? throw new FormatException($"The spec's '{name}' is null.");
}

/// <summary>A method named exactly: its assembly, type, name and metadata token.</summary>
internal sealed record TargetReference(string Assembly, string Type, string Method, int Token)
{
    /// <summary>Refuses what a child cannot rebuild: an instance method, or a lambda that captures variables.</summary>
    public static TargetReference Of(MethodInfo method, object? target)
    {
        var type = method.DeclaringType ?? throw new ProcessStartException($"The target {method.Name} has no declaring type.");
        if (target is not null)
        {
            var captured = target.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
            if (!type.IsDefined(typeof(CompilerGeneratedAttribute)) || captured.Length > 0)
            {
                var what = captured.Length > 0 ? $"captures {string.Join(", ", captured.Select(f => f.Name))}" : $"is an instance method of {type}";
                throw new ProcessStartException(
                    $"The target {Describe(method)} {what}: a child process cannot receive it (Python cannot pickle it either). " +
                    "Use a static method, or a lambda that captures nothing, and pass the values it needs as arguments.");
            }
        }
        return new TargetReference(type.Assembly.FullName!, type.FullName!, method.Name, method.MetadataToken);
    }

    public MethodInfo Resolve()
    {
        var type = System.Reflection.Assembly.Load(Assembly).GetType(Type, throwOnError: true)!;
        var method = type.Module.ResolveMethod(Token) as MethodInfo;
        return method is not null && method.Name == Method && method.DeclaringType == type
            ? method
            : throw new ProcessStartException($"The target {Type}.{Method} was not found: parent and child run different builds.");
    }

    public static string Describe(MethodInfo method) => $"{method.DeclaringType?.Name}.{method.Name}";

    /// <summary>What <paramref name="method"/> is called on: nothing for a static method, else a new instance of the
    /// capture-free closure type <see cref="Of"/> let through.</summary>
    public static object? InstanceFor(MethodInfo method) =>
        method.IsStatic ? null : Activator.CreateInstance(method.DeclaringType!, nonPublic: true);

    /// <summary>One line of text, for an environment variable: the token, type, method and assembly.</summary>
    public string ToText() => $"{Token}|{Type}|{Method}|{Assembly}";

    /// <exception cref="FormatException">The text is not what <see cref="ToText"/> writes.</exception>
    public static TargetReference Parse(string text) =>
        text.Split('|', 4) is [var token, var type, var method, var assembly] && int.TryParse(token, out var number)
            ? new TargetReference(assembly, type, method, number)
            : throw new FormatException($"'{text}' is not a method reference (token|type|method|assembly).");
}
