using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.Processes;

/// <summary>What a parent sends a child: the target (a method, or a <see cref="Process"/> subclass with its state),
/// the arguments as JSON typed by the target's parameters, and who the parent is.</summary>
internal sealed record ProcessSpec(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("daemon")] bool Daemon,
    [property: JsonPropertyName("parentPid")] int ParentPid,
    [property: JsonPropertyName("parentName")] string ParentName,
    [property: JsonPropertyName("target")] TargetReference? Target,
    [property: JsonPropertyName("args")] JsonElement[]? Args,
    [property: JsonPropertyName("processType")] string? ProcessType,
    [property: JsonPropertyName("state")] JsonElement? State)
{
    public string ToJson() => JsonSerializer.Serialize(this, ProcessSpecJson.Default.ProcessSpec);

    public static ProcessSpec FromJson(string json) =>
        JsonSerializer.Deserialize(json, ProcessSpecJson.Default.ProcessSpec) ?? throw new BrokerSerializationException("The process spec is empty.");
}

/// <summary>The spec's JSON code, generated at build time: a child reads its spec before anything else, and reflection
/// would spend most of a child's start building it.</summary>
[JsonSerializable(typeof(ProcessSpec))]
internal sealed partial class ProcessSpecJson : JsonSerializerContext;

/// <summary>A method named exactly: its assembly, type, name and metadata token.</summary>
internal sealed record TargetReference(
    [property: JsonPropertyName("assembly")] string Assembly,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("token")] int Token)
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
}
